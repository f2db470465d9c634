"""The event log's fast path (`store/event_log.py`): what it writes reads back exactly, and a
write the database refuses leaves nothing behind and the log going on.

On SQLite `append_event` talks to the sqlite3 driver itself, with statements compiled once; on
PostgreSQL it goes through SQLAlchemy Core. Both must store what the rest of the store reads.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from backrub.session.events import TAKES_REGION, Event, EventKind
from backrub.store import Store, StoreError, StoreUnavailable

PLAN = {"schema": "backrub.plan", "version": 1}
MORE = Event(at=1.0, kind=EventKind.MORE)
COUGH = Event(at=2.0, kind=EventKind.COUGH)


@st.composite
def events(draw: st.DrawFn) -> Event:
    kind = draw(st.sampled_from(list(EventKind)))
    at = draw(st.floats(min_value=0, max_value=6 * 3600, allow_nan=False, allow_infinity=False))
    region = (
        draw(st.none() | st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=40))
        if kind in TAKES_REGION
        else None
    )
    value = draw(st.integers(0, 10)) if kind is EventKind.FELT else None
    return Event(at=at, kind=kind, region=region, value=value)


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One SQLite store for every example below, each in a session of its own (a new database
    per example spent most of the test making its tables)."""
    with Store.open(f"sqlite:///{tmp_path_factory.mktemp('log') / 'log.sqlite3'}") as store:
        yield store


@settings(max_examples=25, deadline=None)
@given(appended=st.lists(events(), min_size=1, max_size=12))
def test_appended_events_read_back_exactly_and_numbered_from_one(
    sqlite_store: Store, appended: list[Event]
) -> None:
    store = sqlite_store
    session_id = store.start_session(PLAN)
    seqs = [store.append_event(session_id, event) for event in appended]
    assert seqs == list(range(1, len(appended) + 1))
    assert store.events(session_id) == appended
    assert store.numbered_events(session_id, after=len(appended) - 1) == [
        (len(appended), appended[-1])
    ]
    assert store.session(session_id).event_count == len(appended)


def test_the_time_an_event_is_stored_is_kept_like_every_other_time(database_url: str) -> None:
    with Store.open(database_url) as store:
        session_id = store.start_session(PLAN)
        before = datetime.now(UTC)
        store.append_event(session_id, MORE)
        after = datetime.now(UTC)
        stored_at = store.last_recorded_at(session_id)
        ((_, _, recorded_at),) = store.timed_events(session_id)
    assert stored_at == recorded_at
    assert stored_at is not None and stored_at.tzinfo is not None
    assert before <= stored_at <= after
    if make_url(database_url).get_backend_name() == "sqlite":
        # The same text as the times the ORM writes (a session's start), so SQL compares them.
        path = make_url(database_url).database
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as plain:
            (event_time,) = plain.execute("SELECT recorded_at FROM events").fetchone()
            (session_time,) = plain.execute("SELECT created_at FROM sessions").fetchone()
        shape = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}"
        assert re.fullmatch(shape, session_time)
        assert re.fullmatch(shape, event_time)


def _refuse_coughs(database_url: str) -> None:
    """A trigger in the database that refuses every 'cough' event, as a failing disk would."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql(
                    "CREATE TRIGGER no_cough BEFORE INSERT ON events WHEN NEW.kind = 'cough' "
                    "BEGIN SELECT RAISE(ABORT, 'no coughs here'); END"
                )
            else:
                connection.exec_driver_sql(
                    "CREATE FUNCTION no_cough() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "IF NEW.kind = 'cough' THEN RAISE EXCEPTION 'no coughs here'; END IF; "
                    "RETURN NEW; END $$"
                )
                connection.exec_driver_sql(
                    "CREATE TRIGGER no_cough BEFORE INSERT ON events "
                    "FOR EACH ROW EXECUTE FUNCTION no_cough()"
                )
    finally:
        engine.dispose()


def test_a_refused_write_stores_nothing_and_the_log_goes_on(database_url: str) -> None:
    with Store.open(database_url) as store:
        session_id = store.start_session(PLAN)
        _refuse_coughs(database_url)
        assert store.append_event(session_id, MORE) == 1
        with pytest.raises(StoreError, match="no coughs here") as refused:
            store.append_event(session_id, COUGH)
        assert "\n" not in str(refused.value)
        assert store.append_event(session_id, MORE, after=1) == 2
        assert store.events(session_id) == [MORE, MORE]
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM events")).scalar()
    finally:
        engine.dispose()
    assert count == 2


def test_a_locked_sqlite_file_is_unavailable_for_a_moment_not_an_error(tmp_path: Path) -> None:
    """Another program holding the write lock past the wait: 503 material, nothing stored, and
    the next event goes in once the lock is released."""
    path = tmp_path / "log.sqlite3"
    with Store.open(f"sqlite:///{path}?timeout=0.2") as store:
        session_id = store.start_session(PLAN)
        assert store.append_event(session_id, MORE) == 1
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(StoreUnavailable, match="locked"):
                store.append_event(session_id, COUGH, after=1)
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert store.append_event(session_id, MORE, after=1) == 2
        assert store.events(session_id) == [MORE, MORE]


def _statements_of_appends(store: Store, session_id: str, appended: list[Event]) -> list[str]:
    """What the store sent the database while appending `appended`, statement by statement."""
    from sqlalchemy import event

    seen: list[str] = []
    engine = store._engine

    def trace_sqlite(driver: object, record: object, proxy: object) -> None:
        if isinstance(driver, sqlite3.Connection):
            driver.set_trace_callback(seen.append)

    def trace_core(conn: object, cursor: object, statement: str, *rest: object) -> None:
        seen.append(statement)

    event.listen(engine, "checkout", trace_sqlite)
    event.listen(engine, "before_cursor_execute", trace_core)
    try:
        for one in appended:
            seen.append(f"-- {one.kind.value}")
            store.append_event(session_id, one)
    finally:
        event.remove(engine, "checkout", trace_sqlite)
        event.remove(engine, "before_cursor_execute", trace_core)
        with engine.connect() as connection:  # the traced SQLite connections stop tracing
            driver = connection.connection.driver_connection
            if isinstance(driver, sqlite3.Connection):
                driver.set_trace_callback(None)
    return seen


def test_a_save_point_does_not_wait_for_the_disk_but_every_press_does(database_url: str) -> None:
    """A tick (save point) is committed without flushing (SQLite: synchronous=NORMAL for that
    commit only; PostgreSQL: synchronous_commit off for that transaction); a press and every
    event after it are committed with the disk flushed, so a press is never lost to a crash."""
    tick = Event(at=1.5, kind=EventKind.TICK)
    with Store.open(database_url) as store:
        session_id = store.start_session(PLAN)
        seen = _statements_of_appends(store, session_id, [MORE, tick, COUGH])
        assert store.events(session_id) == [MORE, tick, COUGH]
    marks = [i for i, line in enumerate(seen) if line.startswith("-- ")]
    more, ticking, cough = (seen[a:b] for a, b in zip(marks, [*marks[1:], len(seen)], strict=True))
    lighter = re.compile(r"synchronous\s*=\s*NORMAL|synchronous_commit TO OFF", re.IGNORECASE)
    assert any(lighter.search(line) for line in ticking), ticking
    assert not any(lighter.search(line) for line in more + cough), more + cough
    if database_url.startswith("sqlite"):
        # The connection goes back to the pool durable again.
        assert any(re.search(r"synchronous\s*=\s*FULL", line) for line in ticking), ticking
