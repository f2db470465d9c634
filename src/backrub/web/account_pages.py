"""Hosted mode's accounts: sign up, log in, log out, see, export and delete one's account.

Pages (`/signup`, `/login`, `/logout`, `/account`) and the JSON API (`/api/auth/signup`,
`/api/auth/login`, `/api/auth/logout`, `/api/account`, `/api/account/export`,
`DELETE /api/account`). `install` adds them, with the log-in gate, to a hosted app only.

A failed log-in says the same thing, after the same work (a dummy argon2 check), whether the
e-mail address has an account or not. Sign-up with an address that has one says so (409).
Log-ins and sign-ups are limited per client (login_limits.py).
The log-in and sign-up forms carry a double-submit token (cookie and field, signed with the
secret key); their JSON twins take JSON only, which another site's page cannot send without
this server's consent (CORS), and every state-changing request passes the Origin check.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from backrub.store import AccountRecord, EmailTaken, Store
from backrub.web.api import hub_of
from backrub.web.auth import (
    EXPIRED,
    FORM_COOKIE,
    LOGIN_COOKIE,
    NOT_LOGGED_IN,
    Accounts,
    LoginGate,
    Viewer,
    clear_login_cookie,
    form_token_ok,
    new_form_token,
    safe_next,
    set_form_cookie,
    set_login_cookie,
    start_login,
    token_hash,
    viewer_of,
)
from backrub.web.errors import (
    ERROR_RESPONSES,
    NO_STORE,
    Forbidden,
    NotLoggedIn,
    TooManyAttempts,
    problem,
)
from backrub.web.login_limits import (
    check_attempts,
    check_sign_ups,
    client_address,
    count_failure,
    count_sign_up,
    forget_failures,
)
from backrub.web.passwords import (
    EMAIL_MAX,
    PASSWORD_MAX,
    AccountError,
    check_email,
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from backrub.web.templating import templates

WRONG_LOGIN = "wrong e-mail address or password"
WRONG_PASSWORD = "that is not your password; nothing was deleted"
STALE_FORM = "this form has expired (or cookies are off); it was reloaded: please send it again"
TAKEN = "an account with this e-mail address already exists; log in instead"
ALL_SESSIONS = 1_000_000  # "every session" for the store's limit

api = APIRouter(prefix="/api", tags=["account"], responses=ERROR_RESPONSES)
pages = APIRouter(include_in_schema=False)


def install(app: FastAPI, *, secret_key: str, secure_cookies: bool) -> None:
    """Hosted mode: the account routes, and the gate in front of every other route."""
    app.state.accounts = Accounts(secret_key=secret_key, secure_cookies=secure_cookies)
    app.include_router(api)
    app.include_router(pages)
    app.add_middleware(LoginGate)


def _accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


def _store(request: Request) -> Store:
    return hub_of(request).store


def _viewer(request: Request) -> Viewer:
    viewer = viewer_of(request)
    if viewer is None:
        raise NotLoggedIn(NOT_LOGGED_IN)
    return viewer


def account_json(record: AccountRecord) -> dict[str, Any]:
    return {"id": record.id, "email": record.email, "created_at": record.created_at.isoformat()}


# ------------------------------------------------------------------------------ the work


def _sign_up(store: Store, email: str, password: str, address: str) -> int:
    """The new account's id; raises AccountError (bad e-mail, weak password), TooManyAttempts
    (this client has tried too many) or EmailTaken."""
    email = check_email(email)
    check_password(password, email)
    check_sign_ups(store, address)
    try:
        account_id = store.create_account(email, hash_password(password))
    finally:
        count_sign_up(store, address)  # created or taken: either tells about the address
    return account_id


async def _log_in(store: Store, email: str, password: str, address: str) -> int:
    """The account these credentials open; raises TooManyAttempts, or NotLoggedIn with the
    same words whether the e-mail address has an account or not. An address that failed
    often lately is checked a little later (asleep, holding no thread)."""
    email = email.strip().lower()[:EMAIL_MAX]
    if not email.isprintable():  # no account has such an address, and it cannot be stored
        raise NotLoggedIn(WRONG_LOGIN, where="password")
    delay = await run_in_threadpool(check_attempts, store, email, address)
    if delay:
        await asyncio.sleep(delay)
    return await run_in_threadpool(_check_password, store, email, password, address)


def _check_password(store: Store, email: str, password: str, address: str) -> int:
    found = store.credentials(email)
    right = verify_password(found.password_hash if found else None, password)
    if found is None or not right:
        count_failure(store, email, address)
        raise NotLoggedIn(WRONG_LOGIN, where="password")
    forget_failures(store, email, address)
    if needs_rehash(found.password_hash):
        store.set_password_hash(found.account_id, hash_password(password))
    return found.account_id


def _delete(request: Request, viewer: Viewer, password: str) -> None:
    """Delete the account after checking its password again; raises Forbidden if wrong."""
    store = _store(request)
    address = client_address(request)
    check_attempts(store, viewer.email, address)  # logged in: limited, never slowed down
    found = store.credentials(viewer.email)
    if found is None or found.account_id != viewer.account_id:
        raise NotLoggedIn(EXPIRED)
    if not verify_password(found.password_hash, password):
        count_failure(store, viewer.email, address)
        raise Forbidden(WRONG_PASSWORD, where="password")
    hub = hub_of(request)
    sessions = [record.id for record in store.sessions(ALL_SESSIONS, account=viewer.account_id)]
    store.delete_account(viewer.account_id)
    for session_id in sessions:  # this process holds them no longer
        hub.forget(session_id)


def _new_login(request: Request, account_id: int) -> tuple[str, str]:
    """Start a log-in on this browser, ending the one it had: (cookie token, CSRF token)."""
    store = _store(request)
    old = request.cookies.get(LOGIN_COOKIE)
    if old:
        store.delete_login(token_hash(old))
    return start_login(store, _accounts(request), account_id)


# ------------------------------------------------------------------------------ JSON API


class CredentialsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, Field(max_length=EMAIL_MAX)]
    password: Annotated[str, Field(max_length=PASSWORD_MAX)]


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: Annotated[str, Field(max_length=PASSWORD_MAX)]


def _logged_in_reply(request: Request, account_id: int, *, status: int) -> JSONResponse:
    token, csrf = _new_login(request, account_id)
    record = _store(request).account(account_id)
    body = {"account": account_json(record), "csrf_token": csrf}
    reply = JSONResponse(body, status_code=status, headers=NO_STORE)
    set_login_cookie(reply, _accounts(request), token)
    return reply


@api.post("/auth/signup", status_code=201, summary="Sign up (hosted mode); logs in at once")
def api_sign_up(request: Request, body: CredentialsIn) -> JSONResponse:
    try:
        account_id = _sign_up(_store(request), body.email, body.password, client_address(request))
    except AccountError as error:
        return problem(422, error.message, field=error.where)
    except EmailTaken:
        return problem(409, TAKEN, field="email")
    return _logged_in_reply(request, account_id, status=201)


@api.post("/auth/login", summary="Log in (hosted mode): sets the log-in cookie")
async def api_log_in(request: Request, body: CredentialsIn) -> JSONResponse:
    account_id = await _log_in(_store(request), body.email, body.password, client_address(request))
    return await run_in_threadpool(_logged_in_reply, request, account_id, status=200)


@api.post("/auth/logout", status_code=204, summary="Log out this browser")
def api_log_out(request: Request) -> Response:
    viewer = viewer_of(request)
    if viewer is not None:
        _store(request).delete_login(viewer.token_hash)
    reply = Response(status_code=204, headers=NO_STORE)
    clear_login_cookie(reply, _accounts(request))
    return reply


@api.get("/account", summary="Who is logged in, and the CSRF token to send with changes")
def api_account(request: Request) -> JSONResponse:
    viewer = _viewer(request)
    record = _store(request).account(viewer.account_id)
    return JSONResponse({**account_json(record), "csrf_token": viewer.csrf_token}, headers=NO_STORE)


@api.get("/account/export", summary="Everything the account holds, as a JSON download")
def api_export(request: Request) -> JSONResponse:
    viewer = _viewer(request)
    data = _store(request).export_account(viewer.account_id)
    name = f"backrub-export-{date.today().isoformat()}.json"
    return JSONResponse(
        data,
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )


@api.delete("/account", status_code=204, summary="Delete the account and all its data")
def api_delete(request: Request, body: PasswordIn) -> Response:
    _delete(request, _viewer(request), body.password)
    reply = Response(status_code=204, headers=NO_STORE)
    clear_login_cookie(reply, _accounts(request))
    return reply


# ------------------------------------------------------------------------------ pages


def _form_page(
    request: Request,
    template: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A log-in or sign-up form, with a fresh double-submit token in cookie and field."""
    accounts = _accounts(request)
    token = request.cookies.get(FORM_COOKIE)
    fresh = token is None or not form_token_ok(accounts, token, token)
    if fresh:
        token = new_form_token(accounts)
    context = {
        "values": values or {},
        "errors": errors or {},
        "notice": notice,
        "form_token": token,
    }
    page = templates.TemplateResponse(
        request, template, context, status_code=status, headers={**NO_STORE, **(headers or {})}
    )
    if fresh:
        assert token is not None
        set_form_cookie(page, accounts, token)
    return page


def _form_sent(request: Request, field: str | None) -> bool:
    return form_token_ok(_accounts(request), request.cookies.get(FORM_COOKIE), field)


@pages.get("/signup", response_class=HTMLResponse)
def sign_up_page(request: Request) -> Response:
    if viewer_of(request) is not None:
        return RedirectResponse("/", status_code=303)
    return _form_page(request, "signup.html")


@pages.post("/signup", response_class=HTMLResponse)
def sign_up(
    request: Request,
    email: Annotated[str, Form(max_length=EMAIL_MAX * 2)] = "",
    password: Annotated[str, Form(max_length=PASSWORD_MAX * 2)] = "",
    password_again: Annotated[str, Form(max_length=PASSWORD_MAX * 2)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    values = {"email": email}
    if not _form_sent(request, csrf_token):
        return _form_page(request, "signup.html", values=values, notice=STALE_FORM, status=403)
    if password != password_again:
        errors = {"password_again": "the two passwords are not the same; type them again"}
        return _form_page(request, "signup.html", values=values, errors=errors, status=422)
    try:
        account_id = _sign_up(_store(request), email, password, client_address(request))
    except AccountError as error:
        errors = {error.where or "email": error.message}
        return _form_page(request, "signup.html", values=values, errors=errors, status=422)
    except TooManyAttempts as error:
        return _form_page(
            request,
            "signup.html",
            values=values,
            errors={"email": error.message},
            status=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    except EmailTaken:
        errors = {"email": TAKEN}
        return _form_page(request, "signup.html", values=values, errors=errors, status=409)
    token, _ = _new_login(request, account_id)
    reply = RedirectResponse("/", status_code=303, headers=NO_STORE)
    set_login_cookie(reply, _accounts(request), token)
    return reply


@pages.get("/login", response_class=HTMLResponse)
def log_in_page(
    request: Request,
    next: str | None = None,
    expired: int | None = None,
    deleted: int | None = None,
    out: int | None = None,
) -> Response:
    target = safe_next(next)
    if viewer_of(request) is not None:
        return RedirectResponse(target, status_code=303)
    notice = None
    if expired:
        notice = "Your log-in has expired; log in again."
    elif deleted:
        notice = "Your account and everything in it were deleted."
    elif out:
        notice = "You are logged out."
    return _form_page(request, "login.html", values={"next": target}, notice=notice)


@pages.post("/login", response_class=HTMLResponse)
async def log_in(
    request: Request,
    email: Annotated[str, Form(max_length=EMAIL_MAX * 2)] = "",
    password: Annotated[str, Form(max_length=PASSWORD_MAX * 2)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    values = {"email": email, "next": safe_next(next)}
    if not _form_sent(request, csrf_token):
        return _form_page(request, "login.html", values=values, notice=STALE_FORM, status=403)
    try:
        account_id = await _log_in(_store(request), email, password, client_address(request))
    except TooManyAttempts as error:
        return _form_page(
            request,
            "login.html",
            values=values,
            errors={"password": error.message},
            status=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    except NotLoggedIn as error:
        errors = {"password": error.message}
        return _form_page(request, "login.html", values=values, errors=errors, status=401)
    token, _ = await run_in_threadpool(_new_login, request, account_id)
    reply = RedirectResponse(values["next"], status_code=303, headers=NO_STORE)
    set_login_cookie(reply, _accounts(request), token)
    return reply


@pages.get("/logout", response_class=HTMLResponse)
def log_out_page(request: Request) -> Response:
    if viewer_of(request) is None:
        return RedirectResponse("/login", status_code=303)
    return templates.TemplateResponse(request, "logout.html", {}, headers=NO_STORE)


@pages.post("/logout", response_class=HTMLResponse)
def log_out(request: Request) -> Response:
    viewer = viewer_of(request)
    if viewer is not None:
        _store(request).delete_login(viewer.token_hash)
    reply = RedirectResponse("/login?out=1", status_code=303, headers=NO_STORE)
    clear_login_cookie(reply, _accounts(request))
    return reply


def _account_page(
    request: Request, *, errors: dict[str, str] | None = None, status: int = 200
) -> HTMLResponse:
    viewer = _viewer(request)
    store = _store(request)
    record = store.account(viewer.account_id)
    context = {
        "account": record,
        "created": record.created_at.date().isoformat(),
        "profiles": len(store.profiles(account=viewer.account_id)),
        "sessions": len(store.sessions(ALL_SESSIONS, account=viewer.account_id)),
        "errors": errors or {},
    }
    return templates.TemplateResponse(
        request, "account.html", context, status_code=status, headers=NO_STORE
    )


@pages.get("/account", response_class=HTMLResponse)
def account_page(request: Request) -> Response:
    return _account_page(request)


@pages.post("/account/delete", response_class=HTMLResponse)
def delete_account(
    request: Request,
    password: Annotated[str, Form(max_length=PASSWORD_MAX * 2)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",  # checked by the gate
) -> Response:
    try:
        _delete(request, _viewer(request), password)
    except (Forbidden, TooManyAttempts) as error:
        status = 429 if isinstance(error, TooManyAttempts) else 403
        page = _account_page(request, errors={"password": error.message}, status=status)
        if isinstance(error, TooManyAttempts):
            page.headers["Retry-After"] = str(error.retry_after)
        return page
    reply = RedirectResponse("/login?deleted=1", status_code=303, headers=NO_STORE)
    clear_login_cookie(reply, _accounts(request))
    return reply
