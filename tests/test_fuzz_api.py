"""Hostile API bodies: deeply nested, non-finite, malformed, not UTF-8, odd keys. A refusal is
a 4xx naming the field; never a 500, or NaN/Infinity sent as if it were JSON. The plain cases
first, then hypothesis (derandomized, bounded) bending real bodies out of shape, against a real
server on SQLite. The files the CLI reads: test_fuzz_files.py.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests.fuzzing import (
    FUZZ,
    JSON_LEAVES,
    NASTY_BYTES,
    NASTY_NUMBERS,
    NUMBER,
    invented,
    mutated,
    nesting,
    strict_json,
)
from tests.webserver import Server, module_server, start_session

# A real server on SQLite (the parsing under test is the app's, not the database's).
server = module_server("fuzz-web")


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture(scope="module")
def session_id(api: httpx.Client) -> str:
    return str(start_session(api, minutes=90)["id"])


def assert_4xx_naming_the_field(reply: httpx.Response) -> dict[str, Any]:
    assert 400 <= reply.status_code < 500, (reply.status_code, reply.text[:500])
    body: dict[str, Any] = reply.json()
    assert body["error"]
    if reply.status_code in (400, 413, 422):
        assert body["field"], body
    return body


@pytest.mark.parametrize("body", [b'{"kind": "felt", "value": ' + b"[" * 5000 + b"]" * 5000 + b"}"])
def test_json_nested_too_deep_is_a_400_that_says_so(
    api: httpx.Client, session_id: str, body: bytes
) -> None:
    reply = api.post(
        f"/api/sessions/{session_id}/events",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert reply.status_code == 400
    assert assert_4xx_naming_the_field(reply)["error"].endswith("JSON nested too deeply")


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_in_api_bodies_are_refused_naming_the_field(
    api: httpx.Client, session_id: str, number: str
) -> None:
    headers = {"content-type": "application/json"}
    reply = api.post("/api/plans", content=f'{{"minutes": {number}}}', headers=headers)
    assert reply.status_code == 422
    body = assert_4xx_naming_the_field(reply)
    assert body["field"] == "minutes" and "finite" in body["error"]
    event = f'{{"kind": "felt", "value": {number}}}'
    reply = api.post(f"/api/sessions/{session_id}/events", content=event, headers=headers)
    assert reply.status_code == 422 and assert_4xx_naming_the_field(reply)["field"] == "value"


@pytest.mark.parametrize(
    ("body", "field"), [({"": 1}, "''"), ({"a\nb": 1}, "'a\\nb'"), ({"yes": [1]}, "yes[0]")]
)
def test_an_odd_key_is_named_quoted_never_as_an_empty_field(
    api: httpx.Client, body: dict[str, Any], field: str
) -> None:
    reply = api.post("/api/plans", json=body)
    assert reply.status_code == 422
    assert assert_4xx_naming_the_field(reply)["field"] == field


@pytest.mark.parametrize("minutes", ["nan", "inf", "-inf", "1e999"])
def test_non_finite_form_fields_are_refused_on_the_page(api: httpx.Client, minutes: str) -> None:
    reply = api.post("/plan", data={"minutes": minutes})
    assert reply.status_code == 422
    assert "between 5 and 90 minutes" in reply.text  # the page's own words for any bad minutes


def test_a_reply_holding_nan_is_an_error_not_null(tmp_path: Path) -> None:
    # FastAPI alone writes a NaN in a reply as null, a silent lie; the API's routes render with
    # allow_nan=False instead. Here a session state holding NaN (as a bug would) answers 500.
    from backrub.web.app import WebSettings, create_app

    web = create_app(WebSettings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    web.state.hub.state = lambda *_, **__: (1, {"clock": math.nan})

    async def ask(path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=web, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.get(path)

    reply = asyncio.run(ask("/api/sessions/any"))
    assert reply.status_code == 500 and "null" not in reply.text and "NaN" not in reply.text
    assert asyncio.run(ask("/api/options")).status_code == 200


EVENT_KINDS = ["more", "less", "felt", "knot", "pain", "pause", "resume", "tick", "bogus"]


@st.composite
def event_bodies(draw: st.DrawFn) -> bytes:
    """An event body: a plausible one bent out of shape, a made-up one, or raw bytes."""
    choice = draw(st.sampled_from(["plausible", "invented", "nested", "bytes", "huge"]))
    if choice == "plausible":
        body: dict[str, Any] = {"kind": draw(st.sampled_from(EVENT_KINDS))}
        if draw(st.booleans()):
            body["value"] = draw(JSON_LEAVES)
        if draw(st.booleans()):
            body["region"] = draw(st.sampled_from(["upper-trapezius-left", "spine"]) | JSON_LEAVES)
        text = json.dumps(body)
        numbers = list(NUMBER.finditer(text))
        if numbers and draw(st.booleans()):
            found = draw(st.sampled_from(numbers))
            text = (
                text[: found.start()] + draw(st.sampled_from(NASTY_NUMBERS)) + text[found.end() :]
            )
        return text.encode()
    if choice == "invented":
        return draw(invented(["kind", "value", "region", "at"]))
    if choice == "nested":
        return (
            '{"kind": "felt", "value": ' + draw(nesting()).replace("{a = ", '{"a": ') + "}"
        ).encode()
    if choice == "huge":
        return json.dumps(
            {"kind": "knot", "region": "x" * draw(st.sampled_from([300, 60_000]))}
        ).encode()
    return draw(st.binary(max_size=100)) + draw(st.sampled_from(NASTY_BYTES))


@settings(FUZZ, max_examples=150)
@given(body=event_bodies())
def test_fuzzed_event_bodies_get_a_4xx_naming_the_field_never_a_500(
    api: httpx.Client, session_id: str, body: bytes
) -> None:
    reply = api.post(
        f"/api/sessions/{session_id}/events",
        content=body,
        headers={"content-type": "application/json"},
    )
    event(f"status {reply.status_code}")
    if reply.status_code == 200:
        strict_json(reply.text)
        return
    assert_4xx_naming_the_field(reply)


INTAKE_JSON = json.dumps(
    {
        "minutes": 20,
        "activities": ["computer-work"],
        "trouble_spots": ["upper-trapezius-left"],
        "pressure": 3,
        "order": "top-down",
        "yes": [],
        "local": ["shoulder-blade-left:bruise"],
    }
)
INTAKE_KEYS = [*json.loads(INTAKE_JSON), "routine", "sore_spots", "profile_name", "profile_id"]


@settings(FUZZ, max_examples=60)
@given(body=mutated(INTAKE_JSON) | invented(INTAKE_KEYS))
def test_fuzzed_plan_requests_get_a_4xx_naming_the_field_never_a_500(
    api: httpx.Client, body: bytes
) -> None:
    # /api/plans reads the same Intake as starting a session, and saves nothing.
    reply = api.post("/api/plans", content=body, headers={"content-type": "application/json"})
    event(f"status {reply.status_code}")
    if reply.status_code == 200:
        strict_json(reply.text)
        return
    assert_4xx_naming_the_field(reply)
