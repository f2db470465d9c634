"""A press is stored once, however often it arrives.

A device sends the same press again when it never heard the answer to the first try: the reply
was lost on the way, or the connection to the database broke during the commit, which the
database may have kept. Each press carries the device's own id (`press_id`), the same on every
try, and the store keeps one event per id and session: a second arrival stores nothing and
says which event holds the press (`AlreadyStored`). On SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic import command
from sqlalchemy import create_engine, make_url, text

from backrub.live import LiveRun
from backrub.planner import PlanRequest, make_plan
from backrub.session import Event, EventKind, SessionOver
from backrub.store import AlreadyStored, Store, StoreError, StoreUnavailable
from backrub.store.engine import SQLITE_BEGIN, writer_engine
from backrub.store.event_log import EventWriter
from backrub.store.schema import head_revision, migration_config
from tests.clock import Clock

PLAN = {"schema": "backrub.plan", "version": 1}
MORE = Event(at=1.0, kind=EventKind.MORE)
LESS = Event(at=2.0, kind=EventKind.LESS)
PRESS = "5f0c3a9e2b7d41c8a6e1f0b9d3c2a7e4"


def cut_after_commit(store: Store, monkeypatch: pytest.MonkeyPatch, times: int = 1) -> None:
    """The next `times` appends commit, then the caller hears that the connection broke: the
    database kept the event, the caller was told it is unavailable (the one window in which
    a process cannot know)."""
    appending = store._appending
    left = {"cuts": times}

    @contextmanager
    def committed_then_cut(**options: bool) -> Iterator[EventWriter]:
        with appending(**options) as writer:
            yield writer
        if left["cuts"] > 0:
            left["cuts"] -= 1
            raise StoreUnavailable(
                "the database is unavailable: the connection broke during the commit",
                where=store.location,
            )

    monkeypatch.setattr(store, "_appending", committed_then_cut)


def test_the_same_press_sent_twice_is_stored_once(store: Store) -> None:
    session = store.start_session(PLAN)
    assert store.append_event(session, MORE, press_id=PRESS) == 1
    with pytest.raises(AlreadyStored) as again:
        store.append_event(session, Event(at=5.0, kind=EventKind.MORE), press_id=PRESS)
    assert again.value.seq == 1
    assert store.events(session) == [MORE]
    # Another press, another id: stored as usual, and so is a press without one.
    assert store.append_event(session, LESS, press_id="another-press") == 2
    assert store.append_event(session, LESS) == 3
    assert store.append_event(session, LESS) == 4
    assert store.events(session) == [MORE, LESS, LESS, LESS]


def test_a_commit_whose_reply_was_lost_and_retried_stores_one_event(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = store.start_session(PLAN)
    cut_after_commit(store, monkeypatch)
    with pytest.raises(StoreUnavailable):
        store.append_event(session, MORE, press_id=PRESS, after=0)
    # The device tries again, as a 503 tells it to: the database kept the first try.
    with pytest.raises(AlreadyStored) as again:
        store.append_event(session, MORE, press_id=PRESS, after=0)
    assert again.value.seq == 1
    assert store.events(session) == [MORE]
    assert store.session(session).event_count == 1


def test_two_processes_taking_the_same_press_at_once_store_it_once(database_url: str) -> None:
    """Two server processes (two stores) get the same press at the same moment: the session's
    lock makes one look after the other has stored it."""
    with Store.open(database_url) as first, Store.open(database_url) as second:
        session = first.start_session(PLAN)
        ready = threading.Barrier(2)
        outcomes: list[object] = []

        def take(store: Store) -> None:
            ready.wait()
            try:
                outcomes.append(store.append_event(session, MORE, press_id=PRESS))
            except AlreadyStored as repeat:
                outcomes.append(("repeat", repeat.seq))

        threads = [threading.Thread(target=take, args=(store,)) for store in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(outcomes, key=str) == sorted([1, ("repeat", 1)], key=str)
        assert first.events(session) == [MORE]


def test_a_repeat_is_recognised_after_the_session_ended(store: Store) -> None:
    session = store.start_session(PLAN)
    stop = Event(at=3.0, kind=EventKind.STOP)
    store.append_event(session, stop, press_id=PRESS)
    store.end_session(session, "stopped", {})
    with pytest.raises(AlreadyStored):
        store.append_event(session, stop, press_id=PRESS)
    with pytest.raises(AlreadyStored):
        store.check_press(session, PRESS, stop)
    store.check_press(session, "never-sent", stop)  # a new press: nothing to say
    with pytest.raises(StoreError, match="is stopped"):
        store.append_event(session, stop, press_id="a-new-one")
    assert store.events(session) == [stop]


def test_an_id_is_one_press_per_session(store: Store) -> None:
    first, second = store.start_session(PLAN), store.start_session(PLAN)
    store.append_event(first, MORE, press_id=PRESS)
    # Another session may hold the same id (another device's press).
    assert store.append_event(second, MORE, press_id=PRESS) == 1
    # The same id for another press of the same session would lose one: refused, named.
    with pytest.raises(StoreError, match="already names another press") as refused:
        store.append_event(first, LESS, press_id=PRESS)
    assert not isinstance(refused.value, AlreadyStored)
    assert refused.value.where == "press_id"
    assert store.events(first) == [MORE]


@pytest.mark.parametrize("bad", ["", "x" * 65, "a b", "a\x00b", "é"])
def test_a_press_id_of_the_wrong_form_is_refused_and_nothing_stored(store: Store, bad: str) -> None:
    session = store.start_session(PLAN)
    with pytest.raises(StoreError, match="press id") as refused:
        store.append_event(session, MORE, press_id=bad)
    assert refused.value.where == "press_id"
    assert store.events(session) == []


def test_someone_elses_session_is_not_found_even_with_a_stored_press(store: Store) -> None:
    session = store.start_session(PLAN)
    store.append_event(session, MORE, press_id=PRESS)
    with pytest.raises(StoreError, match="no session") as refused:
        store.append_event(session, MORE, press_id=PRESS, account=1)
    assert not isinstance(refused.value, AlreadyStored)
    with pytest.raises(StoreError, match="no session"):
        store.check_press(session, PRESS, MORE, account=1)


def test_a_live_run_whose_commit_broke_takes_the_press_once_when_it_is_sent_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's side: the engine never took the press (it heard the commit fail), the
    device sends it again, and the engine then holds it once, as the log does."""
    clock = Clock()
    run = LiveRun.start(store, make_plan(PlanRequest(minutes=10)), monotonic=clock)
    clock.now = 2.0
    cut_after_commit(store, monkeypatch)
    with pytest.raises(StoreUnavailable):
        run.record_now(EventKind.MORE, press_id=PRESS)
    assert run.engine.state.pressure_offset == 0  # not applied: the process did not know
    clock.now = 3.0
    with pytest.raises(AlreadyStored):
        run.record_now(EventKind.MORE, press_id=PRESS)
    assert [e.kind for e in store.events(run.id)] == [EventKind.MORE]
    assert run.seq == 1
    assert run.engine.state.pressure_offset == 1  # read from the log: once
    # The next press goes on from there.
    run.record_now(EventKind.LESS, press_id="the-next-press")
    assert run.seq == 2
    assert run.engine.state.pressure_offset == 0
    assert [e.kind for e in store.events(run.id)] == [EventKind.MORE, EventKind.LESS]


def test_a_repeated_stop_is_a_repeat_not_a_refusal(store: Store) -> None:
    """The engine refuses any event after a stop; the stop itself sent again is answered as
    the first time was (it was taken), and a new press is refused as before."""
    clock = Clock()
    run = LiveRun.start(store, make_plan(PlanRequest(minutes=10)), monotonic=clock)
    clock.now = 1.0
    run.record_now(EventKind.STOP, press_id=PRESS)
    assert run.ended
    with pytest.raises(AlreadyStored):
        run.record_now(EventKind.STOP, press_id=PRESS)
    with pytest.raises(SessionOver):
        run.record_now(EventKind.STOP, press_id="another-stop")
    assert [e.kind for e in store.events(run.id)] == [EventKind.STOP]


def test_a_database_from_0002_gains_press_ids_and_keeps_its_events(database_url: str) -> None:
    engine = writer_engine(make_url(database_url)).execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
    config = migration_config()
    try:
        with engine.connect() as connection, connection.begin():
            config.attributes["connection"] = connection
            command.upgrade(config, "0002")
        with engine.connect() as connection, connection.begin():
            connection.execute(
                text(
                    "INSERT INTO sessions (id, created_at, status, plan) "
                    "VALUES (:s, '2026-01-01 10:00:00', 'running', '{}')"
                ),
                {"s": "a" * 32},
            )
            connection.execute(
                text(
                    "INSERT INTO events (session_id, seq, at, kind, recorded_at) VALUES "
                    "(:s, 1, 1.0, 'more', '2026-01-01 10:00:01'), "
                    "(:s, 2, 2.0, 'less', '2026-01-01 10:00:02')"
                ),
                {"s": "a" * 32},
            )
    finally:
        engine.dispose()
    with Store.open(database_url) as store:
        assert [e.kind for e in store.events("a" * 32)] == [EventKind.MORE, EventKind.LESS]
        assert store.append_event("a" * 32, MORE, press_id=PRESS) == 3
        with pytest.raises(AlreadyStored):
            store.append_event("a" * 32, MORE, press_id=PRESS)
        assert store.append_event("a" * 32, LESS) == 4  # old and new events without ids
    check = create_engine(database_url)
    try:
        with check.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        check.dispose()
    assert version == head_revision() == "0003"
