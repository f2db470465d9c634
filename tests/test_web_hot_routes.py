"""The press and the live stream, served in front of the middleware stack (web/hot_routes.py):
the same replies as the stack's, with its headers, its error shape and its refusals.

A press the lean path does not take plainly (here: a JSON body sent as `application/x+json`,
which FastAPI reads as JSON too) goes through the whole stack, so the two can be compared."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backrub.web.app import WebSettings, create_app
from backrub.web.auth import BAD_CSRF
from backrub.web.hot_routes import HotRoutes
from backrub.web.security import POLICY

JSON = {"Content-Type": "application/json"}
STACK = {"Content-Type": "application/x+json"}  # JSON to FastAPI; not taken by the lean path
# What differs between two replies of the same kind: the size, and gzip's framing.
SIZES = {"content-length"}


@pytest.fixture
def app(tmp_path: Path, lean: list[str]) -> Any:
    # After `lean`: the app binds the routes when it is made.
    return create_app(WebSettings(database_url=f"sqlite:///{tmp_path / 'hot.db'}"))


@pytest.fixture
def lean(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The routes the lean path served, in order."""
    served: list[str] = []
    press, stream = HotRoutes._press, HotRoutes._stream

    async def pressed(self: HotRoutes, *args: Any) -> None:
        served.append("press")
        await press(self, *args)

    async def streamed(self: HotRoutes, *args: Any) -> None:
        served.append("stream")
        await stream(self, *args)

    monkeypatch.setattr(HotRoutes, "_press", pressed)
    monkeypatch.setattr(HotRoutes, "_stream", streamed)
    yield served


def calls(app: Any, *requests: tuple[str, str, dict[str, Any]]) -> list[httpx.Response]:
    """Each request in turn on one client (the local CSRF token sent unless one is given)."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            token = (await client.get("/api/token")).json()["csrf_token"]
            created = await client.post(
                "/api/sessions", json={"minutes": 20}, headers={"X-CSRF-Token": token}
            )
            session_id = created.json()["id"]
            replies = []
            for method, path, options in requests:
                headers = {"X-CSRF-Token": token, **options.pop("headers", {})}
                headers = {name: value for name, value in headers.items() if value is not None}
                url = path.format(id=session_id)
                replies.append(await client.request(method, url, headers=headers, **options))
            return replies

    return asyncio.run(run())


def press(body: Any, **headers: str | None) -> tuple[str, str, dict[str, Any]]:
    text = body if isinstance(body, str) else json.dumps(body)
    return "POST", "/api/sessions/{id}/events", {"content": text, "headers": {**JSON, **headers}}


def stack_press(body: Any, **headers: str | None) -> tuple[str, str, dict[str, Any]]:
    return press(body, **{"Content-Type": STACK["Content-Type"], **headers})


def header_names(reply: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in reply.headers.items() if name not in SIZES}


def test_a_press_gets_the_stacks_headers_and_is_gzipped(app: Any, lean: list[str]) -> None:
    packed, plain, stacked = calls(
        app,
        press({"kind": "more"}, **{"Accept-Encoding": "gzip"}),
        press({"kind": "less"}, **{"Accept-Encoding": "identity"}),
        stack_press({"kind": "more"}, **{"Accept-Encoding": "gzip"}),
    )
    assert lean == ["press", "press"]  # the third went through the stack
    assert packed.status_code == plain.status_code == stacked.status_code == 200
    assert header_names(packed) == header_names(stacked)
    assert packed.headers["content-security-policy"] == POLICY
    assert packed.headers["cache-control"] == "no-store"
    assert packed.headers["x-frame-options"] == "DENY"
    assert packed.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    # The reply is the session's state with the press in it, as the stack's.
    assert packed.json()["press"]["kind"] == "more"
    assert plain.json()["press"]["kind"] == "less"
    assert set(packed.json()) == set(stacked.json())


def test_gzip_on_the_wire_is_real(app: Any) -> None:
    async def raw() -> bytes:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            token = (await client.get("/api/token")).json()["csrf_token"]
            headers = {"X-CSRF-Token": token}
            session_id = (await client.post("/api/sessions", json={}, headers=headers)).json()["id"]
            async with client.stream(
                "POST",
                f"/api/sessions/{session_id}/events",
                json={"kind": "more"},
                headers={**headers, "Accept-Encoding": "gzip"},
            ) as reply:
                return b"".join([chunk async for chunk in reply.aiter_raw()])

    assert json.loads(gzip.decompress(asyncio.run(raw())))["press"]["kind"] == "more"


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "felt"},  # a felt event needs a value
        {"kind": "tick"},  # the server's own
        {"kind": "more", "extra": 1},
        {"kind": "knot", "region": "nowhere"},
        {"kind": "more", "device_now": 5},  # device_now without device_time
        {"kind": "more", "press_id": "not hex"},
        "{not json",
        "[]",
        "",
    ],
)
def test_a_bad_press_is_refused_as_the_stack_refuses_it(
    app: Any, lean: list[str], body: Any
) -> None:
    lean_reply, stack_reply = calls(app, press(body), stack_press(body))
    assert lean_reply.status_code == stack_reply.status_code
    assert 400 <= lean_reply.status_code < 500
    assert lean_reply.json() == stack_reply.json()
    assert set(lean_reply.json()) >= {"error", "field"}
    assert lean_reply.headers["content-security-policy"] == POLICY
    assert lean == []  # refused before anything was done


@pytest.mark.parametrize(
    "headers",
    [
        {"X-CSRF-Token": None},
        {"X-CSRF-Token": "not the token"},
        {"Origin": "http://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Host": "evil.example"},
    ],
)
def test_a_press_without_the_right_token_origin_or_host_is_refused(
    app: Any, lean: list[str], headers: dict[str, str | None]
) -> None:
    (reply,) = calls(app, press({"kind": "more"}, **headers))
    assert reply.status_code in (400, 403)
    assert "error" in reply.json()
    assert reply.headers["content-security-policy"] == POLICY
    if headers.get("X-CSRF-Token", "") != "":
        assert reply.json()["error"] == BAD_CSRF or "X-CSRF-Token" not in headers
    assert lean == []


def test_the_lean_paths_own_refusals_have_the_apps_shape(app: Any, lean: list[str]) -> None:
    stopped, after, missing = calls(
        app,
        press({"kind": "stop"}),
        press({"kind": "more"}),
        ("POST", "/api/sessions/nope/events", {"json": {"kind": "more"}}),
    )
    assert stopped.status_code == 200
    assert after.status_code == 409
    assert set(after.json()) >= {"error"}
    assert missing.status_code == 404
    assert missing.json() == {"error": "no session 'nope'"}
    for reply in (after, missing):
        assert reply.headers["content-security-policy"] == POLICY
        assert reply.headers["cache-control"] == "no-store"
    assert lean == ["press", "press", "press"]


def test_a_press_sent_twice_is_answered_with_the_state_holding_the_first(
    app: Any, lean: list[str]
) -> None:
    once = {"kind": "more", "press_id": "a" * 32}
    first, again = calls(app, press(once), press(once))
    assert first.status_code == again.status_code == 200
    assert again.json()["seq"] == first.json()["seq"]
    assert lean == ["press", "press"]


def test_the_lean_stream_sends_states_with_the_stacks_headers_and_ends_when_the_device_goes(
    app: Any, lean: list[str]
) -> None:
    (created,) = calls(app, ("GET", "/api/sessions", {}))
    session_id = created.json()[0]["id"]
    sent: list[dict[str, Any]] = []

    async def follow() -> None:
        gone = asyncio.Event()

        async def receive() -> dict[str, Any]:
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message.get("body"):
                gone.set()  # the device leaves after its first state

        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": f"/api/sessions/{session_id}/stream",
            "raw_path": f"/api/sessions/{session_id}/stream".encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1")],
            "server": ("127.0.0.1", 80),
            "client": ("127.0.0.1", 5000),
        }
        await asyncio.wait_for(app(scope, receive, send), 20)

    asyncio.run(follow())
    assert lean == ["stream"]
    start = dict(sent[0]["headers"])
    assert sent[0]["status"] == 200
    assert start[b"content-type"].startswith(b"text/event-stream")
    assert start[b"cache-control"] == b"no-store"
    assert start[b"content-security-policy"] == POLICY.encode()
    assert b"content-encoding" not in start
    event, data = sent[1]["body"].decode().split("\n")[:2]
    assert event == "event: state"
    assert json.loads(data.removeprefix("data: "))["session"] == session_id
    assert not app.state.hub._watchers  # the stream let go of the session
