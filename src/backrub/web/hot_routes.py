"""The two routes every press goes through, served before the middleware stack: the press
(`POST /api/sessions/{id}/events`) and the live stream (`GET /api/sessions/{id}/stream`).

A thousand households press about a hundred times a second and every press is sent to two
devices. Through FastAPI each press and each stream message paid for the whole stack: eight
middlewares' wrappers, routing over every route, the dependency and body machinery, a worker
thread per stream look. Here the same work is done once, in plain ASGI:

- what the middlewares check (the Host, another site's Origin, the body's size, the CSRF token
  in local mode) is checked first with their own functions; a request that does not pass all of
  them plainly (a refusal, a body without a Content-Length, a form, a pairing) goes to the whole
  stack, which answers it exactly as before. So does a body the lean path cannot take as it is
  (not JSON, not a valid press, a device time refused): the stack gives its 400 or 422;
- hosted mode: the log-in gate (auth.LoginGate, the same object) runs in front of these two
  routes, with the 503 guard and the security headers around it, as in the stack;
- the replies carry the security headers (security.py) and are gzipped as GZipMiddleware would
  (a JSON reply of 500 bytes or more, for a client that accepts gzip); refusals have the app's
  error shape (errors.py);
- the press runs in a worker thread (it commits to the database); a stream only when its look
  may store a save point; a stream writes each message straight to the connection, one encoded
  copy per version for every device of the household.
"""

from __future__ import annotations

import asyncio
import json
import re
import zlib
from collections.abc import Callable
from functools import partial

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from backrub.errors import BackrubError
from backrub.store import AlreadyStored
from backrub.web import errors
from backrub.web.auth import read_body, replaying, same_token
from backrub.web.csrf import same_origin
from backrub.web.device_time import press_age
from backrub.web.hosts import HostCheck
from backrub.web.hub import Hub
from backrub.web.limits import BODY_LIMIT
from backrub.web.live_stream import Gone, in_thread, live_messages
from backrub.web.replies import FiniteJSONResponse
from backrub.web.security import HEADERS, NO_STORE
from backrub.web.worker import HEADER as WORKER_HEADER

HOT_PATH = re.compile(r"/api/sessions/([^/]+)/(events|stream)")
ORIGIN_HEADERS = (b"sec-fetch-site", b"origin", b"host")  # what csrf.same_origin reads
GZIP_MINIMUM = 500  # as app.py's GZipMiddleware
GZIP_LEVEL = 6
SAFE_HEADERS = [*HEADERS, WORKER_HEADER, NO_STORE]
STREAM_START = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"x-accel-buffering", b"no"),
    *SAFE_HEADERS,
]


class App(FastAPI):
    """FastAPI, with the press and the live stream served before its whole stack (FastAPI's
    own middlewares and Starlette's error handler included: each wrapped every stream message)."""

    hot_routes: HotRoutes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.hot_routes is None or scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self  # as Starlette sets it: the log-in gate reads the app's state
        await self.hot_routes(scope, receive, send)

    async def stack(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app as FastAPI serves it: every request the hot routes leave to it."""
        await super().__call__(scope, receive, send)


class HotRoutes:
    """In front of the app: the press and the live stream served here, everything else by
    `app` (the whole stack)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hub: Hub,
        hosts: HostCheck,
        local_token: str | None,
        gate: Callable[[ASGIApp], ASGIApp] | None = None,
    ) -> None:
        self.app = app
        self.hub = hub
        self.hosts = hosts
        self.local_token = local_token  # local mode: the server's CSRF token; None: hosted
        # Hosted mode: the log-in gate (and what the stack has around it) in front of ours.
        self.headers_here = gate is None
        self.press_app: ASGIApp = self._press if gate is None else gate(self._press)
        self.stream_app: ASGIApp = self._stream if gate is None else gate(self._stream)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = HOT_PATH.fullmatch(scope["path"])
            if found is not None:
                headers = _headers(scope)
                if found[2] == "events" and scope["method"] == "POST":
                    if self._plain_post(scope, headers):
                        await self._take_press(scope, receive, send, found[1], headers)
                        return
                elif (
                    found[2] == "stream" and scope["method"] == "GET" and self._ours(scope, headers)
                ):
                    scope.setdefault("path_params", {})["session_id"] = found[1]
                    await self.stream_app(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def _ours(self, scope: Scope, headers: dict[bytes, bytes]) -> bool:
        """The Host is one of this server's names (else HostCheck answers)."""
        server = scope.get("server")
        port = server[1] if server and len(server) > 1 else None
        return self.hosts.allows(headers.get(b"host", b"").decode("latin-1"), port)

    def _plain_post(self, scope: Scope, headers: dict[bytes, bytes]) -> bool:
        """A press every middleware would let through, with a JSON body of a known size."""
        length = headers.get(b"content-length", b"")
        kind = headers.get(b"content-type", b"").partition(b";")[0].strip().lower()
        if not (length.isdigit() and int(length) <= BODY_LIMIT and kind == b"application/json"):
            return False
        if not (self._ours(scope, headers) and same_origin(_origin_headers(headers))):
            return False
        if self.local_token is None:
            return True  # hosted: the log-in gate checks the login's token
        given = headers.get(b"x-csrf-token")
        return given is not None and same_token(given.decode("latin-1"), self.local_token)

    async def _take_press(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        session_id: str,
        headers: dict[bytes, bytes],
    ) -> None:
        from backrub.web.api import EventIn  # api.py mounts the same route in the stack

        body = await read_body(receive, limit=BODY_LIMIT)
        if body is None:
            return  # the client left
        try:
            # As FastAPI reads a JSON body, then validates it against the route's model.
            event = EventIn.model_validate(json.loads(body))
            age = press_age(event.device_time, event.device_now)
        except (ValueError, RecursionError, BackrubError):
            # Not a press we take as it is: the stack answers it (400, 422) as it always has.
            await self.app(scope, replaying(body, receive), send)
            return
        scope.setdefault("path_params", {})["session_id"] = session_id
        scope["backrub.press"] = (event, age, b"gzip" in headers.get(b"accept-encoding", b""))
        await self.press_app(scope, replaying(body, receive), send)

    async def _press(self, scope: Scope, receive: Receive, send: Send) -> None:
        from backrub.web.api import pressed  # the stack's route takes a press the same way

        event, age, gzip = scope["backrub.press"]
        session_id = scope["path_params"]["session_id"]
        account = _account(scope)
        hub = self.hub
        try:
            text = await in_thread(partial(pressed, hub, session_id, event, account, age))
            reply = text.encode()
            status = 200
            content_type = b"application/json"
        except AlreadyStored:
            # Stored at an earlier try whose reply was lost: the same answer as the stack's.
            try:
                _, state = await in_thread(partial(hub.state, session_id, account=account))
            except BackrubError as error:
                await self._refuse(error, scope, send, gzip)
                return
            await self._answer(FiniteJSONResponse(state), send, gzip)
            return
        except BackrubError as error:
            await self._refuse(error, scope, send, gzip)
            return
        await self._send(send, status, [(b"content-type", content_type)], reply, gzip)

    async def _refuse(self, error: BackrubError, scope: Scope, send: Send, gzip: bool) -> None:
        from starlette.requests import Request

        await self._answer(await errors._refused(Request(scope), error), send, gzip)

    async def _answer(self, response: JSONResponse, send: Send, gzip: bool) -> None:
        headers = [(n, v) for n, v in response.raw_headers if n != b"content-length"]
        await self._send(send, response.status_code, headers, bytes(response.body), gzip)

    async def _send(
        self, send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, gzip: bool
    ) -> None:
        """A whole reply, as the stack's GZip and SecurityHeaders middlewares would send it."""
        headers = [(n, v) for n, v in headers if n != b"cache-control"]
        if len(body) >= GZIP_MINIMUM:
            headers.append((b"vary", b"Accept-Encoding"))
            if gzip:
                packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: gzip's framing
                body = packer.compress(body) + packer.flush()
                headers.append((b"content-encoding", b"gzip"))
        headers.append((b"content-length", str(len(body)).encode()))
        if self.headers_here:
            headers += SAFE_HEADERS
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        session_id = scope["path_params"]["session_id"]
        account = _account(scope)
        hub = self.hub
        try:
            # 404 before the stream starts (another account's session too).
            await in_thread(partial(hub.followed, session_id, account=account))
        except BackrubError as error:
            await self._refuse(error, scope, send, False)
            return
        headers = STREAM_START if self.headers_here else STREAM_START[:2]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        gone = Gone()
        listener = asyncio.ensure_future(_disconnect(receive, gone))
        try:
            async for message in live_messages(hub, session_id, account=account, gone=gone):
                await send({"type": "http.response.body", "body": message, "more_body": True})
            if not gone.gone:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            listener.cancel()


def hosted_gate(login_gate: Callable[[ASGIApp], ASGIApp]) -> Callable[[ASGIApp], ASGIApp]:
    """Hosted mode's wrapping of a lean route: the stack's security headers, 503 guard and
    log-in gate around it, in the stack's order."""
    from backrub.web.security import SecurityHeaders

    def wrap(app: ASGIApp) -> ASGIApp:
        return SecurityHeaders(errors.UnavailableGuard(login_gate(app)))

    return wrap


def _account(scope: Scope) -> int | None:
    viewer = scope.get("state", {}).get("viewer")
    return None if viewer is None else int(viewer.account_id)


async def _disconnect(receive: Receive, gone: Gone) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    gone.set()


def _origin_headers(headers: dict[bytes, bytes]) -> dict[str, str]:
    """What `same_origin` reads, from `_headers`: cheaper than Starlette's Headers, which
    looks through every header for each name."""
    return {
        name.decode(): headers[name].decode("latin-1") for name in ORIGIN_HEADERS if name in headers
    }


def _headers(scope: Scope) -> dict[bytes, bytes]:
    # The first of each name, as Starlette's Headers.get gives it.
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        found.setdefault(name.lower(), value)
    return found
