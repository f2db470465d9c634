"""The technique pictures over HTTP: the list, each picture, and the live state's step picture."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest

from backrub.method.pairs import used_pairs
from backrub.method.words import vocabulary
from tests.webserver import Server, start_session


@pytest.fixture
def client(web_server: Server) -> httpx.Client:
    with web_server.client() as http:
        yield http  # type: ignore[misc]


def test_the_list_holds_exactly_the_routines_pairs_each_with_its_picture(
    client: httpx.Client,
) -> None:
    listed = client.get("/api/techniques").json()["techniques"]
    assert [(item["technique"], item["contact"]) for item in listed] == [
        (t.value, c.value) for t, c in used_pairs()
    ]
    for item in listed:
        assert item["caption"].strip()
        reply = client.get(item["picture"])
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("image/svg+xml")
        assert "max-age=31536000" in reply.headers["cache-control"]
        ET.fromstring(reply.text)


def test_an_unknown_pair_gets_404_with_the_error_body(client: httpx.Client) -> None:
    for path in ("/api/techniques/circles/nose.svg", "/api/techniques/tickling/palms.svg"):
        reply = client.get(path)
        assert reply.status_code == 404
        body = reply.json()
        assert "no picture for" in body["error"]
        assert body["field"] == "technique"


def test_the_picture_routes_are_in_the_openapi_document(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/techniques" in paths
    assert "/api/techniques/{technique}/{contact}.svg" in paths


def test_the_live_step_carries_its_picture_and_how_firm_that_is(client: httpx.Client) -> None:
    session = start_session(client)["id"]
    step = client.get(f"/api/sessions/{session}").json()["step"]
    reply = client.get(step["picture"])
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("image/svg+xml")
    assert f'class="technique {step["technique"]} {step["contact"]}"' in reply.text
    assert step["picture_caption"] in reply.text
    assert step["pressure_like"] == vocabulary().pressure_like(step["pressure"])
    levels = client.get("/api/options").json()["pressures"]
    assert [level["like"] for level in levels] == [
        vocabulary().pressure_like(n) for n in range(1, 6)
    ]


def test_the_live_page_holds_the_picture_before_any_script_runs(client: httpx.Client) -> None:
    session = start_session(client)["id"]
    step = client.get(f"/api/sessions/{session}").json()["step"]
    page = client.get(f"/session/{session}").text
    src = step["picture"].replace("&", "&amp;")
    assert f'<img id="picture" class="technique-picture" src="{src}"' in page
    assert f"like {step['pressure_like']}" in page
