"""Only requests sent to one of this server's own names get an answer (400 for any other Host).

This is what stops DNS rebinding: a page of another site, open in a browser on this machine,
can point its own name at 127.0.0.1 and then read and change everything the local server holds,
because to the browser that is still its own origin. But its requests carry its own name in the
`Host` header, and are refused here before any route (page, API, stream, static file) runs.

- Local mode: `127.0.0.1`, `localhost` and `[::1]`, on the port the server listens on.
- `--lan`: those, and the addresses `backrub serve --lan` printed for this machine.
- `--hosted`: the names in `BACKRUB_ALLOWED_HOSTS` (any port: the proxy in front decides it);
  `*.example.org` allows every subdomain of example.org.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from backrub.web.errors import NO_STORE, problem

LOCAL_NAMES = ("127.0.0.1", "localhost", "::1")
WRONG_HOST = (
    "refused: this server does not answer to the host name {given!r}; open it at {own} "
    "(another name may be a site trying to reach this server through your browser)"
)


def split_host(header: str) -> tuple[str, int | None] | None:
    """'Example.org:8765' -> ('example.org', 8765); '[::1]' -> ('::1', None); None if malformed."""
    try:
        parts = urlsplit(f"http://{header}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.netloc != header or "@" in header:
        return None
    return parts.hostname.lower(), port


def _bare(name: str) -> str:
    """'[::1]' -> '::1': names as `split_host` gives them."""
    return name.strip().lower().removeprefix("[").removesuffix("]")


class HostCheck:
    """Refuses (400, the API's error body) a request whose `Host` is not one of `names`.

    With `any_port` false the port must be the one the request arrived on (the server's own);
    a `Host` without a port is then taken as port 80."""

    def __init__(self, app: ASGIApp, *, names: Iterable[str], any_port: bool = False) -> None:
        self.app = app
        wanted = [_bare(name) for name in names]
        self.shown = next((name for name in wanted if "*" not in name), "its own address")
        self.everything = "*" in wanted  # hosted only: the proxy in front checks the name
        self.exact = frozenset(name for name in wanted if not name.startswith("*."))
        self.suffixes = tuple(name[1:] for name in wanted if name.startswith("*."))
        self.any_port = any_port

    def allows(self, header: str, server_port: int | None) -> bool:
        split = split_host(header)
        if split is None:
            return False
        name, port = split
        known = name in self.exact or any(name.endswith(suffix) for suffix in self.suffixes)
        if not (known or self.everything):
            return False
        if self.any_port or server_port is None:
            return True
        return (port if port is not None else 80) == server_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)  # lifespan
            return
        server = scope.get("server")
        server_port = server[1] if server and len(server) > 1 else None
        given = Headers(scope=scope).get("host", "")
        if self.allows(given, server_port):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        own = self.shown  # the first name given: the one the server printed
        if not self.any_port and server_port is not None and self.exact:
            own = f"{'[' + own + ']' if ':' in own else own}:{server_port}"
        refused = problem(400, WRONG_HOST.format(given=given[:200], own=own), headers=NO_STORE)
        await refused(scope, receive, send)
