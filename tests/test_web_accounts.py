"""Hosted mode against a real `backrub serve --hosted`: accounts, log-ins, CSRF, isolation.

Every account's data is its own: anonymous callers get 401 (API) or a redirect to /login
(pages), another account's ids get the same 404 as ids that do not exist, and no reply carries
any of the other account's data. Runs on SQLite and on PostgreSQL, like `web_server`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import extract_parameters, profiles
from sqlalchemy import select, update

from backrub.store.tables import AccountRow, LoginFailureRow, LoginRow
from backrub.web.passwords import INSECURE_HASHES_VARIABLE, INSECURE_HASHES_WARNING
from tests.hosted_helpers import (
    HOSTED_ENV,
    PASSWORD,
    database,
    form_token,
    new_address,
    new_email,
    rows_naming,
    sign_up,
)
from tests.webserver import Server, start_server, start_session

NOT_LOGGED_IN = {"error": "log in first (at /login), or sign up (at /signup)"}
EXPIRED = {"error": "your log-in has expired; log in again"}
WRONG_LOGIN = "wrong e-mail address or password"
META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
MISSING_SESSION = "0" * 32
MISSING_PROFILE = 999_999
KNOT_REGION = "middle-trapezius-right"


def log_in_form(server: Server, email: str, password: str = PASSWORD) -> httpx.Client:
    client = server.client(headers={"X-Forwarded-For": new_address()})
    token = form_token(client, "/login")
    reply = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert reply.status_code == 303, reply.text
    return client


# ------------------------------------------------------------------------------ sign-up, log-in


def test_sign_up_logs_in_with_a_safe_cookie(hosted: Server) -> None:
    email = new_email()
    with hosted.client() as client:
        reply = client.post("/api/auth/signup", json={"email": email.upper(), "password": PASSWORD})
        assert reply.status_code == 201, reply.text
        cookie = reply.headers["set-cookie"]
        assert cookie.startswith("backrub_login=")
        for part in ("HttpOnly", "SameSite=lax", "Path=/", f"Max-Age={14 * 24 * 3600}"):
            assert part in cookie
        token = cookie.split(";")[0].split("=", 1)[1]
        body = reply.json()
        assert body["account"]["email"] == email
        assert token not in reply.text
        me = client.get("/api/account").json()
        assert me["email"] == email and me["csrf_token"] == body["csrf_token"]
        assert client.get("/api/profiles").json() == []
    with database(hosted) as db:
        stored = db.execute(select(LoginRow.token_hash, AccountRow.email).join(AccountRow)).all()
    assert (token, email) not in stored  # only the hash is kept
    assert any(found == email for _, found in stored)


def test_the_log_in_cookie_is_secure_unless_turned_off(tmp_path: Path) -> None:
    """Also a server as deployed: without the test suite's cheap password hashes, it hashes
    with RFC 9106's parameters and prints no warning about them."""
    env = {k: v for k, v in HOSTED_ENV.items() if k != "BACKRUB_SECURE_COOKIES"}
    server = start_server(tmp_path, "--hosted", env={**env, INSECURE_HASHES_VARIABLE: "0"})
    try:
        email = new_email()
        with server.client() as client:
            reply = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
            assert reply.status_code == 201
            assert "Secure" in reply.headers["set-cookie"]
            assert "Secure" in client.get("/login").headers["set-cookie"]
        with database(server) as db:
            stored = db.scalar(select(AccountRow.password_hash).where(AccountRow.email == email))
        assert extract_parameters(str(stored)) == profiles.RFC_9106_LOW_MEMORY
        assert INSECURE_HASHES_VARIABLE not in server.output()
    finally:
        server.stop()


def test_a_server_with_the_test_suites_cheap_password_hashes_says_so(hosted: Server) -> None:
    """All other servers of the suite hash the cheap way (tests/conftest.py): loudly."""
    assert INSECURE_HASHES_WARNING in hosted.output()
    email = new_email()
    sign_up(hosted, email).close()
    with database(hosted) as db:
        stored = db.scalar(select(AccountRow.password_hash).where(AccountRow.email == email))
    assert extract_parameters(str(stored)) == profiles.CHEAPEST


def test_log_in_and_log_out_over_the_api(hosted: Server) -> None:
    email = new_email()
    sign_up(hosted, email).close()
    with hosted.client(headers={"X-Forwarded-For": new_address()}) as client:
        reply = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert reply.status_code == 200, reply.text
        client.headers["X-CSRF-Token"] = reply.json()["csrf_token"]
        cookie = client.cookies["backrub_login"]
        assert client.get("/api/account").json()["email"] == email
        assert client.post("/api/auth/logout").status_code == 204
        assert client.get("/api/profiles").json() == NOT_LOGGED_IN
    with hosted.client(cookies={"backrub_login": cookie}) as stale:
        reply = stale.get("/api/profiles")
        assert (reply.status_code, reply.json()) == (401, NOT_LOGGED_IN)


def test_pages_sign_up_log_out_and_log_in_with_forms(hosted: Server) -> None:
    email = new_email()
    with hosted.client(headers={"X-Forwarded-For": new_address()}) as client:
        token = form_token(client, "/signup")
        form = {"email": email, "password": PASSWORD, "password_again": PASSWORD}
        reply = client.post("/signup", data={**form, "csrf_token": token})
        assert (reply.status_code, reply.headers["location"]) == (303, "/")
        start_page = client.get("/")
        assert start_page.status_code == 200
        meta = META_TOKEN.search(start_page.text)
        assert meta is not None
        assert 'href="/account"' in start_page.text and "under your account" in start_page.text
        assert meta.group(1) == client.get("/api/account").json()["csrf_token"]
        account = client.get("/account")
        assert email in account.text and "/api/account/export" in account.text
        reply = client.post("/logout", data={"csrf_token": meta.group(1)})
        assert (reply.status_code, reply.headers["location"]) == (303, "/login?out=1")
        reply = client.get("/history")
        assert (reply.status_code, reply.headers["location"]) == (303, "/login?next=/history")
        token = form_token(client, "/login?next=/history")
        data = {"email": email, "password": PASSWORD, "next": "/history", "csrf_token": token}
        reply = client.post("/login", data=data)
        assert (reply.status_code, reply.headers["location"]) == (303, "/history")
        assert client.get("/history").status_code == 200


def test_after_log_in_only_this_sites_paths_are_followed(hosted: Server) -> None:
    email = new_email()
    sign_up(hosted, email).close()
    with hosted.client(headers={"X-Forwarded-For": new_address()}) as client:
        for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
            client.cookies.delete("backrub_login")
            token = form_token(client, "/login")
            data = {"email": email, "password": PASSWORD, "next": target, "csrf_token": token}
            reply = client.post("/login", data=data)
            assert (reply.status_code, reply.headers["location"]) == (303, "/"), target


def test_forms_without_the_double_submit_token_change_nothing(hosted: Server) -> None:
    email = new_email()
    with hosted.client(headers={"X-Forwarded-For": new_address()}) as client:
        token = form_token(client, "/signup")
        form = {"email": email, "password": PASSWORD, "password_again": PASSWORD}
        for sent in ({}, {"csrf_token": "forged"}, {"csrf_token": token + "x"}):
            reply = client.post("/signup", data={**form, **sent})
            assert reply.status_code == 403, sent
            assert "backrub_login" not in reply.headers.get("set-cookie", "")
        other = httpx.Client(base_url=hosted.url)  # the right field, without the cookie
        assert other.post("/signup", data={**form, "csrf_token": token}).status_code == 403
        other.close()
    sign_up(hosted, email).close()  # so no account was made by any of them
    with hosted.client(headers={"X-Forwarded-For": new_address()}) as client:
        reply = client.post("/login", data={"email": email, "password": PASSWORD})
        assert reply.status_code == 403
        assert "backrub_login" not in reply.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    ("email", "password", "field", "phrase"),
    [
        ("not-an-address", PASSWORD, "email", "not an e-mail address"),
        (None, "short", "password", "at least 10 characters"),
        (None, "zzzzzzzzzzzz", "password", "one character repeated"),
        (None, "qwertyuiop", "password", "most common"),
        ("same.as.email@example.org", "same.as.email@example.org", "password", "e-mail"),
    ],
)
def test_a_bad_email_or_weak_password_is_refused_and_nothing_is_made(
    hosted: Server, email: str | None, password: str, field: str, phrase: str
) -> None:
    address = email or new_email()
    with hosted.client() as client:
        reply = client.post("/api/auth/signup", json={"email": address, "password": password})
        assert reply.status_code == 422
        assert reply.json()["field"] == field and phrase in reply.json()["error"]
        assert "set-cookie" not in reply.headers
        token = form_token(client, "/signup")
        form = {"email": address, "password": password, "password_again": password}
        page = client.post("/signup", data={**form, "csrf_token": token})
        assert page.status_code == 422 and phrase in page.text
    with database(hosted) as db:
        assert db.scalar(select(AccountRow.id).where(AccountRow.email == address)) is None


def test_a_taken_email_is_refused_with_409_and_nothing_changes(hosted: Server) -> None:
    email = new_email()
    sign_up(hosted, email).close()
    with hosted.client() as client:
        reply = client.post(
            "/api/auth/signup", json={"email": email.upper(), "password": "another password 2"}
        )
        assert reply.status_code == 409
        assert reply.json() == {
            "error": "an account with this e-mail address already exists; log in instead",
            "field": "email",
        }
        assert "set-cookie" not in reply.headers
        token = form_token(client, "/signup")
        form = {"email": email, "password": PASSWORD, "password_again": PASSWORD}
        assert client.post("/signup", data={**form, "csrf_token": token}).status_code == 409
    with hosted.client(headers={"X-Forwarded-For": new_address()}) as client:
        old = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert old.status_code == 200
        new = client.post(
            "/api/auth/login", json={"email": email, "password": "another password 2"}
        )
        assert new.status_code == 401


def test_a_failed_log_in_does_not_tell_whether_the_email_has_an_account(hosted: Server) -> None:
    """The same reply; and the same work, argon2 against a dummy hash for an unknown address
    (test_login_limits.py; the time each takes is a figure bench/bench_web.py prints)."""
    email = new_email()
    sign_up(hosted, email).close()
    replies = {}
    with hosted.client(headers={"X-Forwarded-For": new_address()}) as client:
        for kind, address in (("known", email), ("unknown", new_email())):
            reply = client.post(
                "/api/auth/login", json={"email": address, "password": "wrong password 1"}
            )
            replies[kind] = (reply.status_code, reply.json(), "set-cookie" in reply.headers)
    expected = (401, {"error": WRONG_LOGIN, "field": "password"}, False)
    assert replies["known"] == replies["unknown"] == expected


# ------------------------------------------------------------------------------ expiry, limits


def _expire_logins(server: Server, email: str) -> None:
    with database(server) as db:
        account = db.scalar(select(AccountRow.id).where(AccountRow.email == email))
        past = datetime.now(UTC) - timedelta(seconds=1)
        db.execute(update(LoginRow).where(LoginRow.account_id == account).values(expires_at=past))


def _logins_of(server: Server, email: str) -> int:
    with database(server) as db:
        account = db.scalar(select(AccountRow.id).where(AccountRow.email == email))
        return len(db.execute(select(LoginRow).where(LoginRow.account_id == account)).all())


def test_an_expired_log_in_is_refused_and_removed(hosted: Server) -> None:
    email = new_email()
    client = sign_up(hosted, email)
    page_client = log_in_form(hosted, email)
    assert _logins_of(hosted, email) == 2
    _expire_logins(hosted, email)
    reply = client.get("/api/profiles")
    assert (reply.status_code, reply.json()) == (401, EXPIRED)
    assert 'backrub_login=""' in reply.headers["set-cookie"]  # the browser forgets it
    reply = page_client.get("/history")
    assert (reply.status_code, reply.headers["location"]) == (303, "/login?expired=1")
    assert "has expired" in page_client.get("/login?expired=1").text
    assert _logins_of(hosted, email) == 0
    # Logging in again from the browser that held the expired cookie works at once.
    assert "backrub_login" not in client.cookies
    stale = {"Cookie": "backrub_login=an-old-cookie-the-server-no-longer-knows"}
    login = {"email": email, "password": PASSWORD}
    reply = client.post("/api/auth/login", json=login, headers=stale)
    assert reply.status_code == 200
    assert 'backrub_login=""' not in reply.headers["set-cookie"]
    assert client.get("/api/account").json()["email"] == email
    client.close()
    page_client.close()


def test_failures_from_one_client_stop_it_but_not_the_owner_elsewhere(hosted: Server) -> None:
    """Five wrong passwords from anywhere used to lock the owner out for 15 minutes, again and
    again: now only the client that failed waits; the owner elsewhere is slowed down a little."""
    email = new_email()
    sign_up(hosted, email).close()
    right = {"email": email, "password": PASSWORD}
    with hosted.client(headers={"X-Forwarded-For": new_address()}) as attacker:
        for _ in range(5):
            wrong = {"email": email, "password": "wrong one!!"}
            assert attacker.post("/api/auth/login", json=wrong).status_code == 401
        reply = attacker.post("/api/auth/login", json=right)  # right, but guessing stopped
        assert reply.status_code == 429
        assert "too many failed log-ins" in reply.json()["error"]
        assert 0 < int(reply.headers["retry-after"]) <= 15 * 60
        assert "set-cookie" not in reply.headers
        token = form_token(attacker, "/login")
        page = attacker.post("/login", data={**right, "csrf_token": token})
        assert page.status_code == 429 and "too many failed log-ins" in page.text
    with hosted.client(headers={"X-Forwarded-For": new_address()}) as owner:
        reply = owner.post("/api/auth/login", json=right)
        assert reply.status_code == 200, reply.text
        assert owner.get("/api/account").json()["email"] == email
    with hosted.client(headers={"X-Forwarded-For": new_address()}) as browser:
        token = form_token(browser, "/login")
        page = browser.post("/login", data={**right, "csrf_token": token})
        assert page.status_code == 303 and "backrub_login" in page.headers["set-cookie"]


def test_failed_log_ins_from_one_address_are_limited(hosted: Server) -> None:
    email = new_email()
    sign_up(hosted, email).close()
    address = new_address()
    with hosted.client(headers={"X-Forwarded-For": address}) as client:
        for _ in range(20):
            guess = {"email": new_email(), "password": "wrong one!!"}
            assert client.post("/api/auth/login", json=guess).status_code == 401
        right = {"email": email, "password": PASSWORD}
        reply = client.post("/api/auth/login", json=right)
        assert reply.status_code == 429 and "retry-after" in reply.headers
    with hosted.client(headers={"X-Forwarded-For": new_address()}) as elsewhere:
        assert elsewhere.post("/api/auth/login", json=right).status_code == 200
    # Fifteen minutes later, that client may log in again.
    with database(hosted) as db:
        earlier = datetime.now(UTC) - timedelta(minutes=16)
        db.execute(
            update(LoginFailureRow).where(LoginFailureRow.key == f"ip:{address}").values(at=earlier)
        )
    with hosted.client(headers={"X-Forwarded-For": address}) as client:
        assert client.post("/api/auth/login", json=right).status_code == 200


def test_sign_ups_from_one_client_are_limited(hosted: Server) -> None:
    """Sign-up says whether an address has an account (409): one client may ask 10 times in
    15 minutes, whatever the answers; another client signs up as usual."""
    taken = new_email()
    sign_up(hosted, taken).close()
    address = new_address()
    with hosted.client(headers={"X-Forwarded-For": address}) as prober:
        for number in range(10):
            probe = {"email": taken if number % 2 else new_email(), "password": PASSWORD}
            reply = prober.post("/api/auth/signup", json=probe)
            assert reply.status_code == (409 if number % 2 else 201), reply.text
        fresh = new_email()
        reply = prober.post("/api/auth/signup", json={"email": fresh, "password": PASSWORD})
        assert reply.status_code == 429 and "too many sign-ups" in reply.json()["error"]
        assert 0 < int(reply.headers["retry-after"]) <= 15 * 60
        reply = prober.post("/api/auth/signup", json={"email": taken, "password": PASSWORD})
        assert reply.status_code == 429  # the taken address is not told either
    with hosted.client(headers={"X-Forwarded-For": address}) as browser:  # not logged in
        token = form_token(browser, "/signup")
        form = {"email": fresh, "password": PASSWORD, "password_again": PASSWORD}
        page = browser.post("/signup", data={**form, "csrf_token": token})
        assert page.status_code == 429 and "too many sign-ups" in page.text
    with database(hosted) as db:
        assert db.scalar(select(AccountRow.id).where(AccountRow.email == fresh)) is None
    sign_up(hosted, fresh).close()  # from another client


# ------------------------------------------------------------------------------ CSRF, origin


def test_changes_without_the_right_csrf_token_are_refused_and_change_nothing(
    hosted: Server,
) -> None:
    client = sign_up(hosted)
    token = client.headers.pop("X-CSRF-Token")
    other = sign_up(hosted)
    profile = client.post("/api/profiles", json={"name": "Mum"}, headers={"X-CSRF-Token": token})
    profile_id = profile.json()["id"]
    wrong = (
        {},
        {"X-CSRF-Token": ""},
        {"X-CSRF-Token": "wrong"},
        {"X-CSRF-Token": other.headers["X-CSRF-Token"]},  # another log-in's token
    )
    for headers in wrong:
        for method, path, body in (
            ("POST", "/api/profiles", {"name": "Dad"}),
            ("POST", f"/api/profiles/{profile_id}/check-ins", {"regions": []}),
            ("POST", "/api/sessions", {"minutes": 10}),
            ("DELETE", "/api/account", {"password": PASSWORD}),
            ("POST", "/api/auth/logout", None),
        ):
            reply = client.request(method, path, json=body, headers=headers)
            assert reply.status_code == 403, (method, path, headers, reply.text)
            assert "CSRF" in reply.json()["error"]
        for path, form in (
            ("/plan", {"minutes": "10"}),
            ("/session", {"minutes": "10"}),
            (f"/profiles/{profile_id}/check-in", {"regions": KNOT_REGION}),
            ("/account/delete", {"password": PASSWORD}),
            ("/logout", {}),
        ):
            sent = {**form, "csrf_token": headers.get("X-CSRF-Token", "")} if headers else form
            assert client.post(path, data=sent).status_code == 403, (path, headers)
    client.headers["X-CSRF-Token"] = token
    assert [p["name"] for p in client.get("/api/profiles").json()] == ["Mum"]
    assert client.get(f"/api/profiles/{profile_id}").json()["check_ins"] == []
    assert client.get("/api/sessions").json() == []
    assert client.get("/api/account").status_code == 200  # not deleted, still logged in
    # With the token, in the header or the form field, the same changes go through.
    assert client.post("/api/profiles", json={"name": "Dad"}).status_code == 201
    form = {"regions": KNOT_REGION, "csrf_token": token}
    assert client.post(f"/profiles/{profile_id}/check-in", data=form).status_code == 303
    client.close()
    other.close()


def test_another_sites_origin_is_refused_in_hosted_mode(hosted: Server) -> None:
    client = sign_up(hosted)
    evil = client.post(
        "/api/profiles", json={"name": "X"}, headers={"Origin": "https://evil.example"}
    )
    assert evil.status_code == 403 and "another site" in evil.json()["error"]
    own = client.post("/api/profiles", json={"name": "X"}, headers={"Origin": hosted.url})
    assert own.status_code == 201
    with hosted.client() as anonymous:
        token = form_token(anonymous, "/login")
        data = {"email": new_email(), "password": PASSWORD, "csrf_token": token}
        reply = anonymous.post("/login", data=data, headers={"Origin": "null"})
        assert reply.status_code == 403
    client.close()


def test_a_host_not_allowed_is_refused_with_the_apps_error_body(hosted: Server) -> None:
    client = sign_up(hosted)
    for path in ("/api/account", "/login", "/static/app.css", "/api/auth/login"):
        reply = client.get(path, headers={"Host": "massage.evil.example"})
        assert reply.status_code == 400, path
        assert "does not answer to the host name 'massage.evil.example'" in reply.json()["error"]
    assert client.get("/api/account", headers={"Host": "localhost:443"}).status_code == 200
    client.close()


def test_another_sites_origin_is_refused_in_local_mode(web_server: Server) -> None:
    with web_server.client() as client:
        body = {"minutes": 10}
        evil = client.post("/api/plans", json=body, headers={"Origin": "http://evil.example"})
        assert evil.status_code == 403
        assert (
            client.post("/plan", data={"minutes": "10"}, headers={"Origin": "null"}).status_code
            == 403
        )
        assert (
            client.post("/api/plans", json=body, headers={"Origin": web_server.url}).status_code
            == 200
        )
        # No Origin (a script, an old browser): judged by its CSRF token (test_web_security).
        assert client.post("/api/plans", json=body).status_code == 200
        same = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}  # a no-referrer page of ours
        assert client.post("/api/plans", json=body, headers=same).status_code == 200
        cross = {"Sec-Fetch-Site": "cross-site"}
        assert client.post("/api/plans", json=body, headers=cross).status_code == 403
        port = web_server.url.rsplit(":", 1)[1]
        other_port = {"Origin": f"http://127.0.0.1:{int(port) + 1}"}
        assert client.post("/api/plans", json=body, headers=other_port).status_code == 403
        assert client.get("/api/options", headers={"Origin": "http://evil.example"}).is_success
        page = client.get("/")
        assert '<meta name="csrf-token"' in page.text  # the server's own token
        assert "/login" not in page.text
        assert client.get("/login").status_code == 404  # no accounts on the local server


# ------------------------------------------------------------------------------ isolation


@pytest.fixture(scope="module")
def ann(hosted: Server) -> dict[str, Any]:
    """An account with a receiver, a check-in, a running session with feedback and a finished
    one: everything another account must never see."""
    client = sign_up(hosted)
    profile = client.post("/api/profiles", json={"name": "Ann's secret receiver"}).json()
    client.post(f"/api/profiles/{profile['id']}/check-ins", json={"regions": [KNOT_REGION]})
    running = start_session(client, profile_id=profile["id"], profile_name="Ann's secret receiver")
    client.post(f"/api/sessions/{running['id']}/events", json={"kind": "more"})
    finished = start_session(client, minutes=5)
    client.post(f"/api/sessions/{finished['id']}/events", json={"kind": "stop"})
    client.close()
    return {
        "profile": profile["id"],
        "running": running["id"],
        "finished": finished["id"],
        "traces": ["Ann's secret receiver", running["id"], finished["id"]],
    }


def _calls(profile: object, session: object) -> dict[tuple[str, str], tuple[str, Any]]:
    """Every API route, with the ids to call it on: (method, template) -> (path, JSON body)."""
    return {
        ("GET", "/api/options"): ("/api/options", None),
        ("GET", "/api/atlas"): ("/api/atlas", None),
        ("GET", "/api/techniques"): ("/api/techniques", None),
        ("GET", "/api/techniques/{technique}/{contact}.svg"): (
            "/api/techniques/circles/knuckles.svg",
            None,
        ),
        ("GET", "/api/profiles"): ("/api/profiles", None),
        ("POST", "/api/profiles"): ("/api/profiles", {"name": "A receiver of my own"}),
        ("GET", "/api/profiles/{profile_id}"): (f"/api/profiles/{profile}", None),
        ("POST", "/api/profiles/{profile_id}/check-ins"): (
            f"/api/profiles/{profile}/check-ins",
            {"regions": []},
        ),
        ("POST", "/api/plans"): ("/api/plans", {"minutes": 10, "profile_id": profile}),
        ("POST", "/api/sessions"): ("/api/sessions", {"minutes": 10, "profile_id": profile}),
        ("GET", "/api/sessions"): (f"/api/sessions?profile_id={profile}", None),
        ("GET", "/api/sessions/{session_id}"): (f"/api/sessions/{session}", None),
        ("GET", "/api/sessions/{session_id}/map.svg"): (f"/api/sessions/{session}/map.svg", None),
        ("GET", "/api/sessions/{session_id}/step-map.svg"): (
            f"/api/sessions/{session}/step-map.svg",
            None,
        ),
        ("POST", "/api/sessions/{session_id}/events"): (
            f"/api/sessions/{session}/events",
            {"kind": "more"},
        ),
        ("GET", "/api/sessions/{session_id}/stream"): (f"/api/sessions/{session}/stream", None),
        ("GET", "/api/sessions/{session_id}/summary"): (f"/api/sessions/{session}/summary", None),
        ("GET", "/api/account"): ("/api/account", None),
        ("GET", "/api/token"): ("/api/token", None),
        ("GET", "/api/account/export"): ("/api/account/export", None),
        ("DELETE", "/api/account"): ("/api/account", {"password": "wrong password"}),
        ("POST", "/api/auth/signup"): ("/api/auth/signup", None),
        ("POST", "/api/auth/login"): ("/api/auth/login", None),
        ("POST", "/api/auth/logout"): ("/api/auth/logout", None),
    }


# Routes whose path names no account's data (the same picture for everyone).
SHARED_ROUTES = {("GET", "/api/techniques/{technique}/{contact}.svg")}

AUTH_ROUTES = {
    ("POST", "/api/auth/signup"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/logout"),
}


def test_the_calls_below_cover_every_api_route(hosted: Server) -> None:
    document = httpx.get(f"{hosted.url}/openapi.json").json()
    routes = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert routes == set(_calls(1, "x"))


def test_every_api_route_refuses_anonymous_callers(hosted: Server, ann: dict[str, Any]) -> None:
    with hosted.client() as anonymous:
        for (method, template), (path, body) in _calls(ann["profile"], ann["running"]).items():
            if (method, template) in AUTH_ROUTES:
                continue
            reply = anonymous.request(method, path, json=body)
            assert (reply.status_code, reply.json()) == (401, NOT_LOGGED_IN), (method, path)
            assert reply.headers["cache-control"] == "no-store"


def test_every_api_route_answers_another_account_as_if_nothing_were_there(
    hosted: Server, ann: dict[str, Any]
) -> None:
    bob = sign_up(hosted)
    for session in (ann["running"], ann["finished"]):
        calls = _calls(ann["profile"], session)
        missing = _calls(MISSING_PROFILE, MISSING_SESSION)
        for key, (path, body) in calls.items():
            if key in AUTH_ROUTES:
                continue
            reply = bob.request(key[0], path, json=body)
            sent = path + json.dumps(body)
            for trace in ann["traces"]:
                if trace not in sent:  # an id or name the caller gave may be named back
                    assert trace not in reply.text, (key, trace)
            if ("{" in key[1] and key not in SHARED_ROUTES) or (body and "profile_id" in body):
                # Ann's ids: exactly the reply an id nobody has gets.
                other = bob.request(key[0], missing[key][0], json=missing[key][1])
                assert reply.status_code == other.status_code == 404, (key, reply.text)
                expected = other.text.replace(MISSING_SESSION, session).replace(
                    str(MISSING_PROFILE), str(ann["profile"])
                )
                assert reply.text == expected, key
    # Bob's own replies hold none of Ann's data.
    assert bob.get("/api/sessions").json() == []
    assert [p["name"] for p in bob.get("/api/profiles").json()] == ["A receiver of my own"]
    assert bob.get("/api/account/export").json()["sessions"] == []
    bob.close()


def test_every_page_refuses_anonymous_callers_and_hides_another_accounts_data(
    hosted: Server, ann: dict[str, Any]
) -> None:
    pages = [
        "/",
        f"/?profile={ann['profile']}",
        "/history",
        "/account",
        f"/session/{ann['running']}",
        f"/session/{ann['running']}/remote",
        f"/session/{ann['finished']}/summary",
        f"/session/{ann['running']}/plan",
        f"/profiles/{ann['profile']}",
        f"/?receiver={ann['profile']}",
    ]
    forms = [
        "/plan",
        "/session",
        f"/profiles/{ann['profile']}/check-in",
        "/account/delete",
    ]
    with hosted.client() as anonymous:
        for path in pages:
            reply = anonymous.get(path)
            assert reply.status_code == 303, path
            assert reply.headers["location"].startswith("/login?next=/"), path
        for path in forms:
            reply = anonymous.post(path, data={"minutes": "10"})
            assert (reply.status_code, reply.headers["location"]) == (303, "/login?"), path
    bob = sign_up(hosted)
    token = bob.headers["X-CSRF-Token"]
    for path in pages:
        reply = bob.get(path)
        assert reply.status_code in (200, 404), path
        for trace in ann["traces"]:
            if trace not in path:
                assert trace not in reply.text, (path, trace)
    for path in pages[4:]:
        assert bob.get(path).status_code == 404, path
    assert bob.get(f"/?profile={ann['profile']}").status_code == 404
    form = {"minutes": "10", "profile_id": str(ann["profile"]), "csrf_token": token}
    for path in ("/plan", "/session"):
        reply = bob.post(path, data=form)
        assert reply.status_code == 422 and "no profile" in reply.text, path
    reply = bob.post(f"/profiles/{ann['profile']}/check-in", data={"csrf_token": token})
    assert reply.status_code == 404
    bob.close()


def test_the_hub_does_not_hand_a_session_it_holds_to_another_account(
    hosted: Server, ann: dict[str, Any]
) -> None:
    # Ann's running session is in the server's memory (the fixture used it); Bob still gets 404.
    bob = sign_up(hosted)
    assert bob.get(f"/api/sessions/{ann['running']}").status_code == 404
    with bob.stream("GET", f"/api/sessions/{ann['running']}/stream") as stream:
        assert stream.status_code == 404
    bob.close()


def test_the_owner_uses_everything_as_in_local_mode(hosted: Server) -> None:
    client = sign_up(hosted)
    profile = client.post("/api/profiles", json={"name": "Mum"}).json()
    session = start_session(client, profile_id=profile["id"], trouble_spots=[KNOT_REGION])
    state = client.post(f"/api/sessions/{session['id']}/events", json={"kind": "more"})
    assert state.status_code == 200
    assert client.get(f"/session/{session['id']}").status_code == 200
    assert client.get(f"/api/sessions/{session['id']}/map.svg").status_code == 200
    with client.stream("GET", f"/api/sessions/{session['id']}/stream") as stream:
        assert stream.status_code == 200
        for line in stream.iter_lines():
            if line.startswith("data: "):
                assert json.loads(line[6:])["session"] == session["id"]
                break
    assert (
        client.post(f"/api/sessions/{session['id']}/events", json={"kind": "stop"}).status_code
        == 200
    )
    assert client.get(f"/session/{session['id']}/summary").status_code == 200
    assert client.get(f"/profiles/{profile['id']}").status_code == 200
    history = client.get("/history")
    assert session["id"] in history.text
    client.close()


# ------------------------------------------------------------------------------ export, delete


def test_the_export_is_a_download_of_everything_the_account_holds(
    hosted: Server, ann: dict[str, Any]
) -> None:
    email = new_email()
    client = sign_up(hosted, email)
    profile = client.post("/api/profiles", json={"name": "Gran"}).json()
    session = start_session(client, profile_id=profile["id"])
    client.post(f"/api/sessions/{session['id']}/events", json={"kind": "less"})
    reply = client.get("/api/account/export")
    assert reply.status_code == 200
    assert reply.headers["content-disposition"].startswith('attachment; filename="backrub-export-')
    assert reply.headers["cache-control"] == "no-store"
    data = reply.json()
    assert data["account"]["email"] == email
    assert [p["name"] for p in data["profiles"]] == ["Gran"]
    (exported,) = data["sessions"]
    assert exported["id"] == session["id"]
    assert exported["plan"]["schema"] == "backrub.plan"
    assert "less" in [event["kind"] for event in exported["events"]]
    for absent in ("$argon2", "password", client.headers["X-CSRF-Token"], *ann["traces"]):
        assert absent not in reply.text
    client.close()


def _rows_naming(server: Server, account: int, traces: list[str]) -> list[str]:
    with database(server) as db:
        return rows_naming(db, account, traces)


@pytest.mark.parametrize("how", ["api", "page"])
def test_deleting_the_account_takes_everything_with_it(
    hosted: Server, ann: dict[str, Any], how: str
) -> None:
    email = new_email()
    client = sign_up(hosted, email)
    account = client.get("/api/account").json()["id"]
    profile = client.post("/api/profiles", json={"name": "Grandad"}).json()
    session = start_session(client, profile_id=profile["id"])
    client.post(f"/api/sessions/{session['id']}/events", json={"kind": "more"})
    client.post("/api/auth/login", json={"email": email, "password": "a wrong one!"})
    traces = [email, session["id"], "Grandad"]
    assert _rows_naming(hosted, account, traces)

    if how == "api":
        wrong = client.request("DELETE", "/api/account", json={"password": "not it at all"})
        assert (wrong.status_code, wrong.json()["field"]) == (403, "password")
        assert client.get("/api/account").status_code == 200  # nothing deleted
        reply = client.request("DELETE", "/api/account", json={"password": PASSWORD})
        assert reply.status_code == 204
    else:
        token = client.headers["X-CSRF-Token"]
        page = client.get("/account")
        assert "Download my data" in page.text and "Delete my account" in page.text
        wrong = client.post("/account/delete", data={"password": "nope nope!", "csrf_token": token})
        assert wrong.status_code == 403 and "nothing was deleted" in wrong.text
        reply = client.post("/account/delete", data={"password": PASSWORD, "csrf_token": token})
        assert (reply.status_code, reply.headers["location"]) == (303, "/login?deleted=1")
    assert 'backrub_login=""' in reply.headers["set-cookie"]

    assert _rows_naming(hosted, account, traces) == []
    assert client.get("/api/profiles").status_code == 401
    login = {"email": email, "password": PASSWORD}
    assert client.post("/api/auth/login", json=login).status_code == 401
    # Others' data is untouched.
    with database(hosted) as db:
        assert db.scalar(select(AccountRow.id).where(AccountRow.id == account)) is None
    owner_traces = _rows_naming(hosted, -1, ann["traces"])
    assert owner_traces  # Ann's rows are all still there
    client.close()
