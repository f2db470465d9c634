"""Hosted mode's log-ins: who is asking, the gate in front of everyone's data, and CSRF.

A log-in is a random token in the `backrub_login` cookie (HttpOnly, SameSite=Lax, Secure unless
`BACKRUB_SECURE_COOKIES=false`, 14 days); the database keeps only its sha256, with the login's
CSRF token and when it expires. `LoginGate` looks the cookie up once per request (from the
store's memory while it hears every ending of a log-in, store/login_cache.py; else from the
database, in a worker thread) and:

- lets through static files, the log-in and sign-up routes, and anything of a logged-in browser;
- answers an anonymous request 401 JSON (API) or a redirect to /login (pages), and an expired
  log-in 401 "your log-in has expired; log in again" (its row is removed);
- refuses (403) a state-changing request of a logged-in browser without the login's CSRF token,
  in the `X-CSRF-Token` header or the `csrf_token` form field.

Routes learn the account from the `Owner` dependency: None in local mode (the unowned data), the
account id in hosted mode, which they pass to the store and the hub as `account=`.

The gate is plain ASGI (not BaseHTTPMiddleware) so the live stream passes through untouched.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backrub.store import Store
from backrub.store.tables import utc_now
from backrub.web.csrf import UNSAFE_METHODS
from backrub.web.errors import NO_STORE, NotLoggedIn, problem

LOGIN_COOKIE = "backrub_login"
FORM_COOKIE = "backrub_form"  # the log-in and sign-up forms' double-submit token
LOGIN_DAYS = 14
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
TOKEN_MAX = 200  # a cookie or CSRF token longer than this is not ours: not even hashed
FORM_BODY_MAX = 1_000_000  # bytes of a form read to find its CSRF token


EXPIRED = "your log-in has expired; log in again"
NOT_LOGGED_IN = "log in first (at /login), or sign up (at /signup)"
BAD_CSRF = (
    "this request did not carry the right CSRF token (X-CSRF-Token header or csrf_token form "
    "field; scripts get it from GET /api/token); reload the page and try again"
)
LOGIN_PATH = "/login"
SIGNUP_PATH = "/signup"
LOGOUT_PATH = "/logout"
API_LOGIN = "/api/auth/login"
API_SIGNUP = "/api/auth/signup"
API_LOGOUT = "/api/auth/logout"
# Anyone may call these; they check their own CSRF defences (double-submit cookie, JSON only).
OWN_DEFENCES = frozenset({LOGIN_PATH, SIGNUP_PATH, API_LOGIN, API_SIGNUP})
# Anyone may call these too: logging out without a log-in does nothing.
ANYONE = OWN_DEFENCES | {LOGOUT_PATH, API_LOGOUT, "/openapi.json"}
OPEN_PREFIXES = ("/static/",)
DATA_PREFIXES = ("/api/", "/static/")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class Accounts:
    """Hosted mode's settings the log-in code needs; `app.state.accounts` (None: local mode)."""

    secret_key: str
    secure_cookies: bool = True
    login_days: int = LOGIN_DAYS


@dataclass(frozen=True)
class Viewer:
    """The logged-in account behind a request."""

    account_id: int
    email: str
    csrf_token: str
    token_hash: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def accounts_of(request: Request) -> Accounts | None:
    """Hosted mode's settings, or None in local mode."""
    accounts: Accounts | None = getattr(request.app.state, "accounts", None)
    return accounts


def viewer_of(request: Request) -> Viewer | None:
    viewer: Viewer | None = request.scope.get("state", {}).get("viewer")
    return viewer


async def owner(request: Request) -> int | None:
    """The account whose data this request may see: None in local mode (the unowned data)."""
    hosted = getattr(request.app.state, "hosted", None) is not None
    if accounts_of(request) is None and not hosted:
        return None
    viewer = viewer_of(request)
    if viewer is None:  # the gate turns these away first; this is the second lock
        raise NotLoggedIn(NOT_LOGGED_IN)
    return viewer.account_id


Owner = Annotated[int | None, Depends(owner)]


def is_data(path: str) -> bool:
    return path.startswith(DATA_PREFIXES) or path in ("/api", "/openapi.json")


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this server, never another site."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(character in target for character in "\r\n\\"):
        return "/"
    return target


# ------------------------------------------------------------------------------ the gate


def _look_up(store: Store, token: str) -> tuple[Viewer | None, bool]:
    """The login behind a cookie token, and whether it had expired (its row is then removed)."""
    if not token or len(token) > TOKEN_MAX:
        return None, False
    hashed = token_hash(token)
    record = store.cached_login(hashed)
    if record is None:
        return None, False
    if record.expires_at <= utc_now():
        store.delete_login(hashed)
        return None, True
    return Viewer(record.account_id, record.email, record.csrf_token, hashed), False


def _kept_viewer(store: Store, token: str) -> Viewer | None:
    """The log-in behind a cookie token from the store's memory, without a thread or the
    database; None when it is not kept (or expired): then `_look_up`."""
    if not token or len(token) > TOKEN_MAX:
        return None
    hashed = token_hash(token)
    record = store.logins.get(hashed)
    if record is None or record.expires_at <= utc_now():
        return None
    return Viewer(record.account_id, record.email, record.csrf_token, hashed)


def _clear_cookie_header(accounts: Accounts) -> tuple[bytes, bytes]:
    cleared = Response()
    clear_login_cookie(cleared, accounts)
    return b"set-cookie", cleared.headers["set-cookie"].encode("latin-1")


def _clearing_cookie(send: Send, accounts: Accounts) -> Send:
    """`send`, telling the browser to forget its log-in cookie, unless the reply sets a new one
    (a log-in from a browser whose old cookie had expired)."""
    header = _clear_cookie_header(accounts)
    mine = f"{LOGIN_COOKIE}=".encode()

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            sets_login = any(
                name.lower() == b"set-cookie" and value.startswith(mine) for name, value in headers
            )
            if not sets_login:
                message["headers"] = [*headers, header]
        await send(message)

    return wrapped


def _refusal(path: str, message: str, *, status: int, login_query: str) -> Response:
    if is_data(path):
        return problem(status, message, headers=NO_STORE)
    return RedirectResponse(f"{LOGIN_PATH}?{login_query}", status_code=303, headers=NO_STORE)


async def read_body(receive: Receive, *, limit: int = FORM_BODY_MAX) -> bytes | None:
    """The whole request body; None when the client left or it is larger than `limit`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the body read already to the app, then waits as usual."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def form_field(scope: Scope, body: bytes, name: str) -> str | None:
    """One field of a form body (urlencoded or multipart), parsed as the app would."""

    async def nothing_more() -> Message:
        return {"type": "http.disconnect"}

    request = Request(scope, replaying(body, nothing_more))
    try:
        form = await request.form()
    except Exception:  # a malformed form: no token in it
        return None
    try:
        value = form.get(name)
        return value if isinstance(value, str) else None
    finally:
        await form.close()


async def sent_token(scope: Scope, receive: Receive) -> tuple[str | None, Receive]:
    """The CSRF token a request carries, in the `X-CSRF-Token` header or a form's `csrf_token`
    field, and the `receive` the app must use from now on (a form's body read is replayed)."""
    headers = Headers(scope=scope)
    given = headers.get(CSRF_HEADER)
    if given is None and headers.get("content-type", "").startswith(FORM_TYPES):
        body = await read_body(receive)
        if body is not None:
            given = await form_field(scope, body, CSRF_FIELD)
            receive = replaying(body, receive)
    return given, receive


def same_token(given: str | None, expected: str) -> bool:
    if not given or len(given) > TOKEN_MAX:
        return False
    return secrets.compare_digest(given.encode(), expected.encode())


class LoginGate:
    """Hosted mode: finds the log-in, turns anonymous callers away, checks CSRF tokens."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(OPEN_PREFIXES):
            await self.app(scope, receive, send)
            return
        accounts: Accounts = scope["app"].state.accounts
        store: Store = scope["app"].state.hub.store
        headers = Headers(scope=scope)
        token = _cookie(headers, LOGIN_COOKIE)
        viewer, expired = (None, False)
        if token is not None:
            viewer = _kept_viewer(store, token)
            if viewer is None:
                viewer, expired = await run_in_threadpool(_look_up, store, token)
        scope.setdefault("state", {})["viewer"] = viewer
        if token is not None and viewer is None:
            send = _clearing_cookie(send, accounts)  # a stale cookie: the browser forgets it
        if viewer is None:
            if path in ANYONE:
                await self.app(scope, receive, send)
                return
            if expired:
                refusal = _refusal(path, EXPIRED, status=401, login_query="expired=1")
            else:
                query = ""
                if scope["method"] == "GET":
                    asked = scope.get("query_string", b"").decode("latin-1")
                    target = f"{path}?{asked}" if asked else path
                    query = f"next={quote(target, safe='/')}"
                refusal = _refusal(path, NOT_LOGGED_IN, status=401, login_query=query)
            await refusal(scope, receive, send)
            return
        if scope["method"] in UNSAFE_METHODS and path not in OWN_DEFENCES:
            given, receive = await sent_token(scope, receive)
            if not same_token(given, viewer.csrf_token):
                refused = problem(403, BAD_CSRF, headers=NO_STORE)
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _cookie(headers: Headers, name: str) -> str | None:
    """One cookie, read as `Request.cookies` reads it."""
    header = headers.get("cookie")
    return cookie_parser(header).get(name) if header else None


# ------------------------------------------------------------------------------ logging in


def start_login(store: Store, accounts: Accounts, account_id: int) -> tuple[str, str]:
    """A new log-in for this account: (cookie token, CSRF token). Old, expired ones go."""
    store.delete_expired_logins()
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = utc_now() + timedelta(days=accounts.login_days)
    store.create_login(account_id, token_hash(token), csrf, expires)
    return token, csrf


def set_login_cookie(response: Response, accounts: Accounts, token: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=accounts.login_days * 24 * 60 * 60,
        path="/",
        secure=accounts.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def clear_login_cookie(response: Response, accounts: Accounts) -> None:
    response.delete_cookie(
        LOGIN_COOKIE, path="/", secure=accounts.secure_cookies, httponly=True, samesite="lax"
    )


# ------------------------------------------------------------------------------ form tokens


def new_form_token(accounts: Accounts) -> str:
    """A double-submit token for the log-in and sign-up forms, signed with the secret key."""
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_sign(accounts, nonce)}"


def form_token_ok(accounts: Accounts, cookie: str | None, field: str | None) -> bool:
    """The form's token is the cookie's, and this server signed it."""
    if not cookie or not field or not same_token(field, cookie):
        return False
    nonce, _, signature = cookie.partition(".")
    return bool(nonce) and hmac.compare_digest(signature, _sign(accounts, nonce))


def _sign(accounts: Accounts, nonce: str) -> str:
    key = accounts.secret_key.encode()
    return hmac.new(key, f"form:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def set_form_cookie(response: Response, accounts: Accounts, token: str) -> None:
    response.set_cookie(
        FORM_COOKIE,
        token,
        path="/",
        secure=accounts.secure_cookies,
        httponly=True,
        samesite="strict",
    )
