"""In both modes: a state-changing request sent by another site's page is refused (403).

Browsers add an `Origin` header to every cross-site POST (and to fetches that change things), so
a page elsewhere cannot make a visitor's browser plan, start, or send feedback here, even to the
local server on 127.0.0.1 that has no log-in. A request without `Origin` (curl, scripts, the
tests, old browsers' same-site forms) is let through: it was not sent by another site's page.

The origin is compared by host and port with the `Host` header the request was sent to; the
scheme may differ behind a proxy that ends HTTPS (the browser says https, the app sees http).
`Origin: null` (a sandboxed page, or a page whose referrer policy is no-referrer) is refused
unless the browser also says `Sec-Fetch-Site: same-origin`, which no page can forge; and
`Sec-Fetch-Site: cross-site` is refused whatever the Origin says.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from backrub.web.errors import NO_STORE, problem

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PORTS = {"http": 80, "https": 443}
OTHER_SITE = "refused: this request was sent by a page of another site (its Origin is not {own})"


def _host_port(netloc: str, scheme: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.hostname.lower(), port


def same_origin(headers: Mapping[str, str]) -> bool:
    """True when there is no Origin, or it names the host and port this request was sent to.
    `headers`: the request's (Starlette's `Headers`), or a dict of at least these three."""
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site == "cross-site":
        return False
    origin = headers.get("origin")
    if origin is None:
        return True
    if origin.strip() == "null":
        return fetch_site == "same-origin"
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return False
    if parts.scheme not in DEFAULT_PORTS or not parts.netloc or parts.path not in ("", "/"):
        return False  # "null" (a sandboxed or redirected page), or not an origin at all
    host = headers.get("host", "")
    theirs = _host_port(parts.netloc, parts.scheme)
    return theirs is not None and theirs == _host_port(host, parts.scheme)


class OriginCheck:
    """Refuses POST, PUT, PATCH and DELETE whose `Origin` is another site's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            headers = Headers(scope=scope)
            if not same_origin(headers):
                own = headers.get("host", "this server")
                refused = problem(403, OTHER_SITE.format(own=own), headers=NO_STORE)
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)
