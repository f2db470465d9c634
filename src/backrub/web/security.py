"""Headers on every reply: the browser may load nothing from anywhere but this server, and keeps
no copy of anything but the static files."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backrub.web.worker import HEADER as WORKER_HEADER

# 'self' only: no fonts, scripts, images or connections elsewhere, so the app works offline and
# nothing about a receiver leaves the machine through the page. Speech synthesis is local.
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    # same-origin: no other site is ever told which page (a session id) a link came from; and
    # unlike no-referrer, the browser still names this origin in the Origin header of our own
    # form posts, which the Origin check (csrf.py) needs (no-referrer makes it "null").
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
# Every page and API reply may carry receivers' health data (names, screening answers, sessions):
# no browser, proxy or shared computer keeps a copy. One rule here instead of one per route, so
# a new route cannot forget it. Static files and the technique pictures (the same for everyone,
# versioned URLs) may be cached.
NO_STORE = (b"cache-control", b"no-store")
CACHEABLE_PREFIXES = ("/static/", "/api/techniques/")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        cacheable = str(scope.get("path", "")).startswith(CACHEABLE_PREFIXES)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), *HEADERS, WORKER_HEADER]
                if not cacheable:
                    headers = [(n, v) for n, v in headers if n.lower() != NO_STORE[0]]
                    headers.append(NO_STORE)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
