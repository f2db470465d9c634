"""Schemathesis against a hosted server's OpenAPI document, logged in with a cookie and the
log-in's CSRF token, on SQLite and on PostgreSQL: the same runs and checks as for a local
server (test_web_schemathesis.py, which says what they are), in a file of its own so that a
second pytest-xdist worker takes it while the first fuzzes the local one."""

from __future__ import annotations

from backrub.web.auth import CSRF_HEADER, LOGIN_COOKIE
from tests.hosted_helpers import sign_up
from tests.test_web_schemathesis import ANONYMOUS, _fuzz, _make_known, _still_serving
from tests.webserver import Server


def test_hosted_api_gives_no_server_error_to_a_logged_in_account(hosted: Server) -> None:
    client = sign_up(hosted)
    known = _make_known(client)
    cookies = {LOGIN_COOKIE: client.cookies[LOGIN_COOKIE]}
    csrf = {CSRF_HEADER: client.headers[CSRF_HEADER]}
    seen = _fuzz(hosted, known, cookies=cookies, headers=csrf)

    # The log-in and its CSRF token were in force: no 401, and no 403 but for the wrong
    # passwords sent to delete the account. The run neither ended the log-in nor deleted it.
    for label, statuses in seen.items():
        if label.split(" ", 1)[1] in ANONYMOUS:
            continue
        refused = {401} if label == "DELETE /api/account" else {401, 403}
        assert not statuses.keys() & refused, (label, statuses)
    assert seen["GET /api/account"][200] > 0
    me = client.get("/api/account")
    assert me.status_code == 200, me.text
    assert client.get(f"/api/profiles/{known.profile}").status_code == 200
    client.close()
    _still_serving(hosted)
