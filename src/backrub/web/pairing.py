"""Pairing for `backrub serve --lan`: only a device that typed the code shown gets in.

At each start the server makes a 6-digit code (shown in the terminal, as text and as a QR code)
and a random token. A device that sends the right code to /pair gets the token in an HttpOnly,
SameSite=Strict cookie; every other request without that cookie gets nothing: pages redirect to
/pair, the API and the live stream answer 401, static files are refused (except the two /pair
itself needs). Wrong codes are counted: after `MAX_WRONG` in `WINDOW` seconds every attempt is
refused with 429 until the window has passed, so the million codes cannot be tried in turn.

The gate is plain ASGI (not BaseHTTPMiddleware) so the live stream passes through untouched.
"""

from __future__ import annotations

import math
import secrets
import string
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from backrub.web.templating import templates

CODE_DIGITS = 6
COOKIE = "backrub_device"
COOKIE_SECONDS = 24 * 60 * 60  # a day; a restart makes a new token anyway
MAX_WRONG = 5  # wrong codes allowed per WINDOW, from all devices together
WINDOW = 60.0  # seconds
CODE_MAX_CHARS = 32  # anything longer is not a code; not even looked at
PAIR_PATH = "/pair"
# What the /pair page itself loads; every other static file needs the cookie.
# The web app manifest and its icons too: browsers fetch a manifest without cookies.
OPEN_PATHS = frozenset(
    {
        PAIR_PATH,
        "/static/app.css",
        "/static/theme.js",
        "/static/icon.svg",
        "/static/icon-maskable.svg",
        "/static/manifest.webmanifest",
    }
)
# Data, not pages: answered 401 JSON, never redirected.
DATA_PREFIXES = ("/api/", "/static/")
DATA_PATHS = frozenset({"/api", "/openapi.json"})
NOT_PAIRED = (
    "pair this device first: open /pair and type the 6-digit code shown where "
    "`backrub serve --lan` runs"
)
NO_STORE = {"Cache-Control": "no-store"}


def new_code() -> str:
    """Six random digits, leading zeros kept."""
    return "".join(secrets.choice(string.digits) for _ in range(CODE_DIGITS))


class Attempts:
    """Wrong codes in the last `window` seconds, from every device: a guesser gets few tries."""

    def __init__(
        self,
        limit: int = MAX_WRONG,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._wrong: deque[float] = deque()
        self._lock = threading.Lock()

    def _forget_old(self, now: float) -> None:
        while self._wrong and now - self._wrong[0] >= self.window:
            self._wrong.popleft()

    def _wait(self, now: float) -> int:
        self._forget_old(now)
        if len(self._wrong) < self.limit:
            return 0
        return max(1, math.ceil(self._wrong[0] + self.window - now))

    def wait(self) -> int:
        """Whole seconds until another attempt is allowed; 0 when one is allowed now."""
        with self._lock:
            return self._wait(self.clock())

    def attempt(self, right: bool) -> int:
        """Count an attempt; 0 if it may go on, else the seconds to wait (it is not counted).

        One step under the lock, so a burst of requests at once cannot slip past the limit.
        """
        with self._lock:
            now = self.clock()
            wait = self._wait(now)
            if not wait and not right:
                self._wrong.append(now)
            return wait


@dataclass(frozen=True)
class Pairing:
    code: str
    token: str
    cookie: str = COOKIE
    attempts: Attempts = field(default_factory=Attempts, compare=False, repr=False)

    @classmethod
    def new(cls, cookie: str = COOKIE) -> Pairing:
        """A new code and token: made at every start of the server."""
        return cls(code=new_code(), token=secrets.token_urlsafe(32), cookie=cookie)

    def is_code(self, given: str) -> bool:
        return secrets.compare_digest(given.encode(), self.code.encode())

    def is_paired(self, connection: HTTPConnection) -> bool:
        token = connection.cookies.get(self.cookie, "")
        return bool(token) and secrets.compare_digest(token.encode(), self.token.encode())


def _is_data(path: str) -> bool:
    return path in DATA_PATHS or path.startswith(DATA_PREFIXES)


class PairingGate:
    """Lets through paired devices, /pair and what /pair loads; turns everything else away."""

    def __init__(self, app: ASGIApp, pairing: Pairing) -> None:
        self.app = app
        self.pairing = pairing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)  # lifespan
            return
        connection = HTTPConnection(scope)
        path: str = scope["path"]
        if path in OPEN_PATHS or self.pairing.is_paired(connection):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        response: Response
        if _is_data(path):
            response = JSONResponse({"error": NOT_PAIRED}, status_code=401, headers=NO_STORE)
        else:
            response = RedirectResponse(PAIR_PATH, status_code=303, headers=NO_STORE)
        await response(scope, receive, send)


router = APIRouter(include_in_schema=False)


def _pairing_of(request: Request) -> Pairing | None:
    pairing: Pairing | None = request.app.state.pairing
    return pairing


def _form(request: Request, error: str | None = None, *, status: int = 200) -> HTMLResponse:
    context = {"errors": {"code": error} if error else {}, "digits": CODE_DIGITS}
    return templates.TemplateResponse(
        request, "pair.html", context, status_code=status, headers=NO_STORE
    )


def _try(request: Request, pairing: Pairing, given: str) -> Response:
    typed = "".join(given[:CODE_MAX_CHARS].split()).replace("-", "")
    well_formed = len(typed) == CODE_DIGITS and typed.isascii() and typed.isdigit()
    right = well_formed and pairing.is_code(typed)
    # Checked before anything else: once guessing is stopped, even the right code waits.
    wait = pairing.attempts.attempt(right or not well_formed)  # a typo in form is no guess
    if wait:
        message = f"Too many wrong codes. Wait {wait} seconds, then try again."
        limited = _form(request, message, status=429)
        limited.headers["Retry-After"] = str(wait)
        return limited
    if not well_formed:
        return _form(request, f"The code is {CODE_DIGITS} digits, such as 042917.", status=422)
    if not right:
        return _form(
            request,
            "That is not the code. Check the terminal where backrub runs and type it again.",
            status=403,
        )
    paired = RedirectResponse("/", status_code=303, headers=NO_STORE)
    paired.set_cookie(
        pairing.cookie,
        pairing.token,
        max_age=COOKIE_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
    )
    return paired


@router.get(PAIR_PATH, response_class=HTMLResponse)
def pair_page(request: Request, code: str | None = None) -> Response:
    """The form asking for the code; with ?code=... (the QR code's link) it pairs at once."""
    pairing = _pairing_of(request)
    if pairing is None:  # not --lan: nothing to pair
        return RedirectResponse("/", status_code=303)
    if code is None:
        if pairing.is_paired(request):
            return RedirectResponse("/", status_code=303, headers=NO_STORE)
        return _form(request)
    return _try(request, pairing, code)


@router.post(PAIR_PATH, response_class=HTMLResponse)
async def pair(request: Request) -> Response:
    pairing = _pairing_of(request)
    if pairing is None:
        return RedirectResponse("/", status_code=303)
    form = await request.form()
    given = form.get("code")
    return _try(request, pairing, given if isinstance(given, str) else "")
