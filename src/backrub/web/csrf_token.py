"""A CSRF token on every change, in every mode, so no other site's page can change anything.

The Origin check (csrf.py) refuses what a browser says came from another site; but a request
may carry neither `Origin` nor `Sec-Fetch-Site` (an old browser, a plain form, a page whose
referrer policy hides its origin). So every POST, PUT, PATCH and DELETE must also carry a
token that only this server's own pages (and whoever may read its API) know:

- hosted mode: the log-in's token (the log-in gate in auth.py checks it);
- local mode and `--lan`: one random token made at each start of the server, checked here.

Pages carry it in `<meta name="csrf-token">` (live.js sends it as `X-CSRF-Token`) and in a
hidden `csrf_token` field of every form. Scripts read it from `GET /api/token` and send it in
the `X-CSRF-Token` header. Another site's page cannot read it: the browser shows it no reply
from this server (no CORS), and a rebound name gets nothing (the Host check, hosts.py).
A restart makes a new token: a page open before it is refused once, then reloads the token.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from backrub.web.auth import BAD_CSRF, same_token, sent_token, viewer_of
from backrub.web.csrf import UNSAFE_METHODS
from backrub.web.errors import ERROR_RESPONSES, NO_STORE, NotLoggedIn, problem

# /pair (pairing.py) has its own defence, the code, and comes before a device may read the token.
OWN_DEFENCES = frozenset({"/pair"})

router = APIRouter(prefix="/api", tags=["security"], responses=ERROR_RESPONSES)


def new_local_token() -> str:
    return secrets.token_urlsafe(32)


def page_token(request: Request) -> str | None:
    """The token this request's pages must send back: the log-in's (hosted), the server's
    (local), or None (hosted, not logged in: nothing to change yet)."""
    viewer = viewer_of(request)
    if viewer is not None:
        return viewer.csrf_token
    pairing = getattr(request.app.state, "pairing", None)
    if pairing is not None and not pairing.is_paired(request):
        return None  # the /pair page, seen by a device that may not have it yet
    token: str | None = getattr(request.app.state, "csrf_token", None)
    return token


class TokenOut(BaseModel):
    csrf_token: str = Field(description="send it as the X-CSRF-Token header with every change")


@router.get(
    "/token",
    response_model=TokenOut,
    summary="The CSRF token to send (X-CSRF-Token) with every change",
)
def csrf_token(request: Request) -> JSONResponse:
    token = page_token(request)
    if token is None:  # the log-in gate answers first; this is the second lock
        raise NotLoggedIn("log in first (at /login)")
    return JSONResponse(TokenOut(csrf_token=token).model_dump(), headers=NO_STORE)


class LocalTokenGate:
    """Local mode and --lan: refuses (403) a change without the server's token."""

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in UNSAFE_METHODS
            and scope.get("path") not in OWN_DEFENCES
        ):
            given, receive = await sent_token(scope, receive)
            if not same_token(given, self.token):
                await problem(403, BAD_CSRF, headers=NO_STORE)(scope, receive, send)
                return
        await self.app(scope, receive, send)
