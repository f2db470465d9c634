"""The start page and the plan preview, as a browser would post them (plain HTML forms)."""

from __future__ import annotations

import re
from html import unescape as html_unescape

import httpx
import pytest

from tests.webserver import Server


@pytest.fixture
def client(web_server: Server) -> httpx.Client:
    with web_server.client() as http:
        yield http  # type: ignore[misc]


def error_next_to(html: str, field: str) -> str:
    """The message shown right after the field, tied to it for screen readers."""
    found = re.search(rf'<p class="error" id="{field}-error" role="alert">([^<]*)</p>', html)
    assert found, f"no error shown for {field}"
    return html_unescape(found.group(1))


def test_the_start_page_offers_every_choice_with_labels(client: httpx.Client) -> None:
    html = client.get("/").text
    for name in ("profile_name", "minutes", "order", "routine"):
        assert f'<label for="{name}"' in html
    assert 'name="activities" value="computer-work"' in html
    assert 'name="trouble_spots" value="upper-trapezius-left"' in html
    assert 'name="yes" value="chest-pain-or-breathless"' in html
    assert 'data-region="upper-trapezius-left"' in html  # the map to tap
    assert 'name="local_kind"' in html


def test_a_bad_value_comes_back_next_to_its_field_with_the_rest_kept(
    client: httpx.Client,
) -> None:
    reply = client.post(
        "/plan",
        data={"minutes": "200", "activities": "knitting", "trouble_spots": "spine"},
    )
    assert reply.status_code == 422
    html = reply.text
    assert "between 5 and 90 minutes" in error_next_to(html, "minutes")
    assert "never pressed" in error_next_to(html, "trouble_spots")
    assert 'aria-describedby="minutes-error"' in html
    assert 'value="200"' in html  # what was typed stays
    assert 'value="knitting" checked' in html


def test_a_local_problem_with_an_unknown_region_is_named(client: httpx.Client) -> None:
    reply = client.post(
        "/plan", data={"minutes": "20", "local_kind": "bruise", "local_region": "elbow"}
    )
    assert reply.status_code == 422
    assert "unknown region 'elbow'" in error_next_to(reply.text, "local")


def test_the_preview_explains_go_and_offers_to_start_and_print(client: httpx.Client) -> None:
    reply = client.post("/plan", data={"minutes": "15", "trouble_spots": "middle-trapezius-right"})
    assert reply.status_code == 200
    html = reply.text
    assert 'id="outcome-heading">Go<' in html
    assert 'id="start-session"' in html
    assert "data-print" in html
    assert 'class="plan-steps"' in html
    assert 'name="trouble_spots" value="middle-trapezius-right"' in html


def test_changes_are_listed_with_their_reasons(client: httpx.Client) -> None:
    reply = client.post(
        "/plan",
        data={"minutes": "20", "local_kind": "sunburn", "local_region": "latissimus-left"},
    )
    assert "Go with changes" in reply.text
    left_out = reply.text[reply.text.index("<h3>Left out</h3>") :]
    assert "Latissimus dorsi" in left_out  # left out, with the reason, in words
    assert 'id="start-session"' in reply.text


def test_a_refusal_explains_and_offers_no_start(client: httpx.Client) -> None:
    reply = client.post("/plan", data={"minutes": "20", "yes": "chest-pain-or-breathless"})
    assert reply.status_code == 200
    assert "Not today, get medical help now" in reply.text
    assert "emergency" in reply.text
    assert 'id="start-session"' not in reply.text


def test_starting_saves_the_receiver_and_opens_the_live_page(client: httpx.Client) -> None:
    reply = client.post(
        "/session", data={"minutes": "10", "profile_name": "Kim", "activities": "knitting"}
    )
    assert reply.status_code == 303
    assert re.fullmatch(r"/session/[0-9a-f]{32}", reply.headers["location"])
    profiles = client.get("/api/profiles").json()
    kim = next(p for p in profiles if p["name"] == "Kim")
    assert kim["preferences"]["activities"] == ["knitting"]
    again = client.get("/", params={"profile": kim["id"]}).text
    assert "Starting from Kim" in again
    assert 'value="knitting" checked' in again


def test_a_refused_start_posted_anyway_is_refused_with_the_reason(client: httpx.Client) -> None:
    before = len(client.get("/api/sessions").json())
    reply = client.post("/session", data={"minutes": "10", "yes": "chest-pain-or-breathless"})
    assert reply.status_code == 409
    assert "get medical help now" in error_next_to(reply.text, "yes")
    assert len(client.get("/api/sessions").json()) == before


def test_swap_roles_prefills_a_short_gentle_session(client: httpx.Client) -> None:
    html = client.get("/", params={"swap": "0123456789abcdef0123456789abcdef"}).text
    assert "Swap roles" in html
    assert 'id="minutes" name="minutes" value="10"' in html
