"""How the API says no: a JSON body naming what is wrong (and the field, when one is to blame)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backrub.datafile import key_text
from backrub.errors import BackrubError
from backrub.session import SessionOver
from backrub.store import StoreError, StoreUnavailable
from backrub.store.store import UnstorableText
from backrub.web.hub import Conflict, NotFound

log = logging.getLogger(__name__)


class NotLoggedIn(BackrubError):
    """Hosted mode: a request for someone's data without a log-in (or with an expired one)."""


class Forbidden(BackrubError):
    """A request refused whoever makes it: wrong CSRF token, another site's origin, a wrong
    password where one is asked again."""


class TooManyAttempts(BackrubError):
    """Too many failed log-ins or sign-ups from one client: wait, then retry."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class ErrorBody(BaseModel):
    """Every refusal's body, whatever its status."""

    model_config = ConfigDict(extra="allow")  # e.g. `screening` when a session is refused

    error: str = Field(description="what is wrong, in words for a person")
    field: str | None = Field(None, description="the field to blame, when one is")
    details: list[dict[str, Any]] | None = Field(None, description="every invalid field (422)")


# The refusals every API route may answer with, for the OpenAPI document (docs/web-api.md says
# when each one happens).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": words}
    for status, words in (
        (400, "The body cannot be read (not JSON, not UTF-8, nested too deeply)"),
        (401, "Not paired (--lan) or not logged in (--hosted)"),
        (403, "A missing or wrong CSRF token, another site's origin, a wrong password"),
        (404, "No such id (or another account's)"),
        (409, "Clashes with what is stored (a finished session, a name already taken)"),
        (413, "The body is over 64 KiB"),
        (422, "A value that is not valid; `details` lists every field"),
        (429, "Too many failed log-ins or sign-ups from one client; wait Retry-After seconds"),
        (503, "The database is away for a moment: nothing was saved; retry after Retry-After"),
    )
}

NO_STORE = {"Cache-Control": "no-store"}
# Seconds a client waits before trying again while the database is away (a PostgreSQL restart
# takes a few; a full disk needs a person, and the client keeps trying at this pace).
RETRY_UNAVAILABLE = 3
UNAVAILABLE = "not saved: the database is unavailable for a moment; try again"
# FastAPI's words for a body it could not parse (e.g. JSON nested deeper than Python recurses).
UNPARSED_BODY = "There was an error parsing the body"


def problem(
    status: int,
    message: str,
    *,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if field is not None:
        body["field"] = field
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers)


def _field_of(item: Mapping[str, Any]) -> str:
    # ("body", "minutes") -> "minutes"; ("body", "yes", 2) -> "yes[2]"; ("path", "id") -> "id"
    location = item["loc"]
    if item.get("type") == "json_invalid" or not location:
        return "body"
    parts = list(location[1:]) or list(location)
    # key_text quotes a key sent empty or holding a newline, a dot, a space...: never field "".
    name = key_text(str(parts[0])) if parts else "request"
    for part in parts[1:]:
        name += f"[{part}]" if isinstance(part, int) else f".{key_text(str(part))}"
    return name


async def _invalid(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    details = [
        {"field": _field_of(item), "message": str(item["msg"]).removeprefix("Value error, ")}
        for item in error.errors()
    ]
    first = details[0] if details else {"field": "request", "message": "invalid request"}
    return problem(
        422, f"{first['field']}: {first['message']}", field=first["field"], details=details
    )


async def _refused(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BackrubError)
    if isinstance(error, NotFound):
        return problem(404, error.message, field=error.where)
    if isinstance(error, NotLoggedIn):
        return problem(401, error.message, field=error.where, headers=NO_STORE)
    if isinstance(error, Forbidden):
        return problem(403, error.message, field=error.where)
    if isinstance(error, TooManyAttempts):
        return problem(429, error.message, headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, SessionOver | Conflict):
        return problem(409, error.message, field=error.where)
    if isinstance(error, UnstorableText):
        # The store's second lock (the models refuse it first where they can): a 422 like theirs.
        field = error.where or "body"
        detail = {"field": field, "message": error.message}
        return problem(422, f"{field}: {error.message}", field=field, details=[detail])
    if isinstance(error, StoreUnavailable):
        return _unavailable(error)
    if isinstance(error, StoreError):
        return problem(409, error.message)
    return problem(400, error.one_line(), field=error.where)


def _unavailable(error: StoreUnavailable) -> JSONResponse:
    # The reason (a server address, a file path) stays in the server's log, not the reply.
    log.warning("database unavailable: %s", error.message)
    headers = {"Retry-After": str(RETRY_UNAVAILABLE), **NO_STORE}
    return problem(503, UNAVAILABLE, headers=headers, retry_after=RETRY_UNAVAILABLE)


class UnavailableGuard:
    """503 for a database that is away wherever it shows up, also in the middleware in front
    of the routes (the log-in and pairing gates read the database before any route runs)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except StoreUnavailable as error:
            if started:
                raise  # a stream already under way: it ends, and the page follows it again
            await _unavailable(error)(scope, receive, send)


def _wants_page(request: Request) -> bool:
    """A browser following a link (not the API, not a static file): it should get a page."""
    path = request.url.path
    return (
        request.method == "GET"
        and not path.startswith(("/api/", "/static/"))
        and "text/html" in request.headers.get("accept", "")
    )


async def _http_error(request: Request, error: Exception) -> Response:
    # Starlette's and FastAPI's own refusals (unknown path, wrong method, a body too large or
    # that cannot be parsed), in the same shape as every other error instead of {"detail": ...}.
    assert isinstance(error, HTTPException)
    if error.status_code == 404 and _wants_page(request):
        # A mistyped address in the browser: our page with a way back, not a line of JSON.
        # (Imported here: the templates' helpers import the auth module, which imports this.)
        from backrub.web.templating import templates

        return templates.TemplateResponse(
            request, "not_found.html", {"what": "page"}, status_code=404
        )
    about_body = error.status_code == 413 or error.detail == UNPARSED_BODY
    message = error.detail
    if error.detail == UNPARSED_BODY:
        message = _unparsed(error.__cause__)
    return problem(
        error.status_code, message, field="body" if about_body else None, headers=error.headers
    )


def _unparsed(cause: BaseException | None) -> str:
    """Why FastAPI could not parse a body (it keeps the parser's exception as the cause)."""
    if isinstance(cause, RecursionError):
        return "the request body could not be parsed: JSON nested too deeply"
    if isinstance(cause, UnicodeDecodeError):
        return "the request body could not be parsed: it is not UTF-8"
    if isinstance(cause, ValueError):  # an integer of more than 4300 digits
        return "the request body could not be parsed: a number with too many digits"
    return "the request body could not be parsed (not UTF-8, malformed, or too deep)"


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(BackrubError, _refused)
    app.add_exception_handler(HTTPException, _http_error)
