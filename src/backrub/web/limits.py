"""A cap on request bodies: anything larger is refused with 413 before the app reads it whole.

No route reads or keeps more than a few kilobytes: the largest real request, the start form with
every box ticked and a 100-character name, is about 5 KB, and a sign-up form with the longest
password allowed (1024 characters, each up to 12 bytes once form-encoded, typed twice) is about
25 KB. The cap leaves a wide margin over both, and stops anyone making the server buffer and
parse megabytes (a 5 MB body, 100,000 region ids, JSON nested a million deep).

A `Content-Length` over the cap is refused at once, without reading a byte of the body. A body
sent without one (chunked) is counted as it arrives and refused as soon as it passes the cap.
Requests without a body (every GET, so the live stream too) pass through untouched.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backrub.web.errors import NO_STORE, problem

BODY_LIMIT = 64 * 1024  # bytes
TOO_LARGE = "the request body is larger than this server accepts ({limit} bytes at most)"


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a body without a Content-Length passes the cap. An
    HTTPException, so FastAPI's body parsing lets it through instead of calling it a parse
    error (400), and the app's handler answers it like every other error (errors.py)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, TOO_LARGE.format(limit=limit), headers=NO_STORE)


def too_large(limit: int) -> JSONResponse:
    """The reply to a body over the cap, in the API's error shape."""
    return problem(413, TOO_LARGE.format(limit=limit), field="body", headers=NO_STORE)


class BodyLimit:
    """Refuses (413) a request whose body is larger than `limit` bytes."""

    def __init__(self, app: ASGIApp, *, limit: int = BODY_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        # The HTTP server has already refused a Content-Length that is not a number.
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await too_large(self.limit)(scope, receive, send)
            return

        received = 0
        started = False

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, sending)
        except BodyTooLarge:
            # Read by a middleware (the log-in gate looks for a form's CSRF token), where no
            # exception handler answers it: answer here, unless a reply has begun already.
            if started:
                raise
            await too_large(self.limit)(scope, receive, send)
