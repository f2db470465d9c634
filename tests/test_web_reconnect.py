"""A hosted server on PostgreSQL whose connections are cut: it reconnects, and a press is stored
once.

Cutting every connection of the server (what a failover, a proxy restart or an idle-connection
reaper does) must cost nothing: the next press, look and live stream work, and a press the
server stored is never answered with an error (a device would send it again, and two "ouch"
mean "pain again").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import fresh_postgres_database
from tests.hosted_helpers import HOSTED_ENV, sign_up
from tests.webserver import Server, start_server, start_session

PRESSES = ("more", "cough", "less", "ticklish")


@pytest.fixture
def server(postgres_server: str, tmp_path: Path) -> Iterator[Server]:
    with fresh_postgres_database(postgres_server) as url:
        env = {**HOSTED_ENV, "BACKRUB_DATABASE_URL": url}
        started = start_server(tmp_path, "--hosted", speed=20.0, env=env)
        try:
            yield started
        finally:
            started.stop()


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def cut_connections(url: str) -> int:
    """End every connection to the server's database but this one; how many were ended."""
    with psycopg.connect(_libpq(url), autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


def stored_feedback(url: str, session: str) -> list[str]:
    """The kinds of the session's stored events, save points left out."""
    with psycopg.connect(_libpq(url)) as reader:
        rows = reader.execute(
            "SELECT kind FROM events WHERE session_id = %s AND kind <> 'tick' ORDER BY seq",
            (session,),
        ).fetchall()
    return [kind for (kind,) in rows]


def first_state(client: httpx.Client, session: str) -> dict[str, object]:
    with client.stream("GET", f"/api/sessions/{session}/stream") as reply:
        assert reply.status_code == 200, reply.read()
        for line in reply.iter_lines():
            if line.startswith("data: "):
                state: dict[str, object] = json.loads(line[6:])
                return state
    raise AssertionError("the stream ended without a state")


def test_every_press_after_a_cut_is_answered_and_stored_once(server: Server) -> None:
    device = sign_up(server)
    try:
        session = start_session(device)["id"]
        first_state(device, session)
        for kind in PRESSES:
            # The pool's, the listener's and (before the fix) the NOTIFY sender's connections.
            assert cut_connections(server.database_url) > 0
            reply = device.post(f"/api/sessions/{session}/events", json={"kind": kind})
            assert reply.status_code == 200, reply.text
            assert reply.json()["seq"] >= 1
            # Looking at the session and following it work too (they store save points).
            cut_connections(server.database_url)
            assert device.get(f"/api/sessions/{session}").status_code == 200
            assert first_state(device, session)["session"] == session
    finally:
        device.close()

    assert stored_feedback(server.database_url, session) == list(PRESSES)
