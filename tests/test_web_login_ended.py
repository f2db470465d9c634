"""Several server processes on one PostgreSQL database keep log-ins in memory between requests
(store/login_cache.py): a log-in ended on one process must be refused by every other at once,
whatever they kept. (Each process hears the ending through NOTIFY.)"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing

import httpx
import pytest

from backrub.web.auth import LOGIN_COOKIE
from tests.conftest import fresh_postgres_database
from tests.hosted_helpers import HOSTED_ENV, PASSWORD, new_email, sign_up
from tests.webserver import Server, start_server

LOOKS = 5  # requests on the other process before the ending: its log-in is kept by then


@pytest.fixture(scope="module")
def two_servers(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    """Two server processes on one database (as two workers, each with its own address)."""
    with fresh_postgres_database(postgres_server) as url:
        env = {**HOSTED_ENV, "BACKRUB_DATABASE_URL": url}
        first = start_server(tmp_path_factory.mktemp("first"), "--hosted", env=env)
        try:
            second = start_server(tmp_path_factory.mktemp("second"), "--hosted", env=env)
            try:
                yield first, second
            finally:
                second.stop()
        finally:
            first.stop()


def _same_log_in(server: Server, client: httpx.Client) -> httpx.Client:
    """A client of `server` holding `client`'s log-in cookie and CSRF token, as a second device
    of the same browser would (kept even after the first one's cookie is cleared)."""
    token = client.cookies[LOGIN_COOKIE]
    headers = {**dict(client.headers), "Cookie": f"{LOGIN_COOKIE}={token}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=10.0)


def _kept_on(other: httpx.Client, session: str) -> None:
    for _ in range(LOOKS):
        assert other.get(f"/api/sessions/{session}").status_code == 200


def _started(client: httpx.Client) -> str:
    reply = client.post("/api/sessions", json={"minutes": 10})
    assert reply.status_code == 201, reply.text
    session: str = reply.json()["id"]
    return session


@pytest.mark.parametrize("path", ["/api/auth/logout", "/logout"])
def test_a_log_out_on_one_process_is_refused_on_the_other_at_once(
    two_servers: tuple[Server, Server], path: str
) -> None:
    first, second = two_servers
    with closing(sign_up(first)) as giver, _same_log_in(second, giver) as other:
        session = _started(giver)
        _kept_on(other, session)
        with _same_log_in(first, giver) as here:
            _kept_on(here, session)

            assert giver.post(path).status_code in (204, 303)

            assert here.get(f"/api/sessions/{session}").status_code == 401
        assert other.get(f"/api/sessions/{session}").status_code == 401
        press = other.post(f"/api/sessions/{session}/events", json={"kind": "more"})
        assert press.status_code == 401


def test_a_new_log_in_on_the_same_browser_ends_the_old_one_on_the_other_process(
    two_servers: tuple[Server, Server],
) -> None:
    first, second = two_servers
    email = new_email()
    with closing(sign_up(first, email)) as giver, _same_log_in(second, giver) as old:
        session = _started(giver)
        _kept_on(old, session)

        again = giver.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert again.status_code == 200, again.text

        assert old.get(f"/api/sessions/{session}").status_code == 401


def test_a_deleted_account_is_refused_on_the_other_process_at_once(
    two_servers: tuple[Server, Server],
) -> None:
    first, second = two_servers
    with closing(sign_up(first)) as giver, _same_log_in(second, giver) as other:
        session = _started(giver)
        _kept_on(other, session)

        gone = giver.request("DELETE", "/api/account", json={"password": PASSWORD})
        assert gone.status_code in (200, 204), gone.text

        assert other.get(f"/api/sessions/{session}").status_code == 401
        assert other.get("/api/sessions").status_code == 401
