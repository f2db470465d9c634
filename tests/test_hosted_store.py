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
from tests.conftest import _libpq, fresh_postgres_database

WAIT = 10.0  # seconds a thread may take; far more than an append needs


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    with fresh_postgres_database(postgres_server) as url:
        yield url


def _waiting_for_a_lock(admin: psycopg.Connection, database: str) -> bool:
    row = admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
        (database,),
    ).fetchone()
    return bool(row and row[0])


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
