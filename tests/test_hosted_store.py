"""The store as several server processes share it on PostgreSQL: what one session's writers wait
for must not hold up another session's."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from backrub.planner import PlanRequest, make_plan
from backrub.session import Event, EventKind
from backrub.store import Store
from backrub.web.live_stream import WORKER_THREADS
from tests.conftest import _libpq, fresh_postgres_database

WAIT = 10.0  # seconds a thread may take; far more than an append needs


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    with fresh_postgres_database(postgres_server) as url:
        yield url


def _waiting(admin: psycopg.Connection, database: str) -> int:
    """How many connections to the database wait for a lock."""
    row = admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
        (database,),
    ).fetchone()
    return int(row[0]) if row else 0


def _waiting_for_a_lock(admin: psycopg.Connection, database: str) -> bool:
    return _waiting(admin, database) > 0


def test_an_append_waiting_for_its_session_does_not_hold_up_another_sessions(
    postgres_url: str,
) -> None:
    """Another process holds one session's row (it is storing that session's event): an event of
    another session is stored meanwhile. (A lock in the process around every append made all
    sessions wait for the slowest one's commit.)"""
    plan = make_plan(PlanRequest(minutes=5)).to_json()
    with Store.open(postgres_url) as store:
        held, free = store.start_session(plan, None), store.start_session(plan, None)
        stored: dict[str, int] = {}

        def append(session_id: str) -> None:
            stored[session_id] = store.append_event(session_id, Event(at=1.0, kind=EventKind.MORE))

        with (
            psycopg.connect(_libpq(postgres_url)) as other,
            psycopg.connect(_libpq(postgres_url), autocommit=True) as admin,
        ):
            other.execute("SELECT id FROM sessions WHERE id = %s FOR UPDATE", (held,))
            waiting = threading.Thread(target=append, args=(held,), daemon=True)
            waiting.start()
            database = str(other.info.dbname)
            deadline = time.monotonic() + WAIT
            while not _waiting_for_a_lock(admin, database) and time.monotonic() < deadline:
                time.sleep(0.02)
            assert _waiting_for_a_lock(admin, database)

            going = threading.Thread(target=append, args=(free,), daemon=True)
            going.start()
            going.join(WAIT / 2)
            finished_meanwhile = not going.is_alive()
            other.rollback()  # the other process lets the row go
        waiting.join(WAIT)
        going.join(WAIT)

        assert finished_meanwhile, "the other session's event waited for the locked one"
        assert stored == {held: 1, free: 1}


def _connections(admin: psycopg.Connection, database: str) -> int:
    row = admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (database,),
    ).fetchone()
    return int(row[0]) if row else 0


def test_a_busy_moment_leaves_its_connections_open_for_the_next(postgres_url: str) -> None:
    """As many appends at once as the live routes have threads, each holding a connection (its
    session's row is held elsewhere): once they are through, the store keeps every one of those
    connections open, so the next busy moment opens none. (SQLAlchemy's default pool kept 5 and
    closed the rest on return: in an evening's busy seconds a new server process per request.)"""
    at_once = WORKER_THREADS
    plan = make_plan(PlanRequest(minutes=5)).to_json()
    with Store.open(postgres_url) as store:
        sessions = [store.start_session(plan, None) for _ in range(at_once)]
        with (
            psycopg.connect(_libpq(postgres_url)) as other,
            psycopg.connect(_libpq(postgres_url), autocommit=True) as admin,
        ):
            database = str(other.info.dbname)
            other.execute("SELECT id FROM sessions WHERE id = ANY(%s) FOR UPDATE", (sessions,))
            appending = [
                threading.Thread(
                    target=store.append_event,
                    args=(session_id, Event(at=1.0, kind=EventKind.MORE)),
                    daemon=True,
                )
                for session_id in sessions
            ]
            for thread in appending:
                thread.start()
            deadline = time.monotonic() + WAIT
            while _waiting(admin, database) < at_once and time.monotonic() < deadline:
                time.sleep(0.02)
            assert _waiting(admin, database) == at_once
            other.rollback()  # the rows are let go: every append goes through
            for thread in appending:
                thread.join(WAIT)
            assert not any(thread.is_alive() for thread in appending)
            other.close()

            assert _connections(admin, database) >= at_once
        assert [store.events(session_id) for session_id in sessions] == [
            [Event(at=1.0, kind=EventKind.MORE)]
        ] * at_once
