"""The store: schema at head, events committed before use, refusals that change nothing."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, make_url

from backrub.planner import Plan, PlanRequest, make_plan
from backrub.session.events import Event, EventKind
from backrub.store import Store, StoreError, database_url, default_database_path
from backrub.store.engine import writer_engine
from backrub.store.schema import head_revision
from backrub.store.tables import Base

PLAN = {"schema": "backrub.plan", "version": 1}

EVENTS = [
    Event(at=0.5, kind=EventKind.MORE),
    Event(at=12.25, kind=EventKind.KNOT, region="upper-trapezius-left"),
    Event(at=30.0, kind=EventKind.FELT, value=7),
    Event(at=30.0, kind=EventKind.KNOT),
    Event(at=95.75, kind=EventKind.STOP),
]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "backrub.sqlite3"


@pytest.fixture
def url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    with Store.open(url) as opened:
        yield opened


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


def _assert_refused_unchanged(path: Path, *phrases: str) -> None:
    before, listing = _digest(path), _files(path.parent)
    with pytest.raises(StoreError) as refused:
        Store.open(f"sqlite:///{path}")
    message = str(refused.value)
    assert "\n" not in message
    for phrase in (*phrases, "nothing was changed"):
        assert phrase in message
    assert _digest(path) == before
    assert _files(path.parent) == listing


# Schema


def test_a_new_database_gets_the_schema_at_head(url: str, path: Path) -> None:
    Store.open(url).close()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
            tables = {
                name
                for (name,) in connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            }
    finally:
        engine.dispose()
    assert revision == head_revision() == "0001"
    assert tables == {"alembic_version", "profiles", "sessions", "events"}
    assert _files(path.parent) == ["backrub.sqlite3"]  # WAL checkpointed and removed on close


def test_the_tables_match_the_migration(store: Store, url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_reopening_a_database_at_head_keeps_its_data(url: str) -> None:
    with Store.open(url) as first:
        session_id = first.start_session(PLAN)
        first.append_event(session_id, EVENTS[0])
    with Store.open(url) as second:
        assert second.events(session_id) == [EVENTS[0]]


def test_sqlite_connections_are_durable_and_enforce_foreign_keys(url: str) -> None:
    engine = writer_engine(make_url(url))
    try:
        with engine.connect() as connection:

            def pragma(name: str) -> object:
                return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

            assert pragma("foreign_keys") == 1
            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 2  # FULL
    finally:
        engine.dispose()


# Events


def test_events_round_trip_in_order_with_their_fields(store: Store) -> None:
    session_id = store.start_session(PLAN)
    seqs = [store.append_event(session_id, event) for event in EVENTS]
    assert seqs == [1, 2, 3, 4, 5]
    assert store.events(session_id) == EVENTS
    assert store.session(session_id).event_count == len(EVENTS)


def test_each_session_numbers_its_own_events(store: Store) -> None:
    first, second = store.start_session(PLAN), store.start_session(PLAN)
    assert store.append_event(first, EVENTS[0]) == 1
    assert store.append_event(second, EVENTS[1]) == 1
    assert store.append_event(first, EVENTS[2]) == 2
    assert store.events(first) == [EVENTS[0], EVENTS[2]]
    assert store.events(second) == [EVENTS[1]]


def test_an_appended_event_is_committed_when_append_returns(store: Store, url: str) -> None:
    session_id = store.start_session(PLAN)
    with Store.open(url) as other:
        for count, event in enumerate(EVENTS, 1):
            store.append_event(session_id, event)
            assert other.events(session_id) == EVENTS[:count]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_every_event_survives_a_process_killed_right_after_appending(
    store: Store, url: str, path: Path
) -> None:
    session_id = store.start_session(PLAN)
    count = 40
    child = textwrap.dedent(
        f"""
        import os, signal
        from backrub.session.events import Event, EventKind
        from backrub.store import Store
        store = Store.open({url!r})
        for number in range({count}):
            store.append_event({session_id!r}, Event(at=number / 4, kind=EventKind.TICK))
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    assert Path(f"{path}-wal").exists()  # the killed writer never checkpointed
    with Store.open(url) as reopened:
        events = reopened.events(session_id)
    assert events == [Event(at=number / 4, kind=EventKind.TICK) for number in range(count)]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_kill_at_any_instant_loses_no_acknowledged_event(store: Store, url: str) -> None:
    session_id = store.start_session(PLAN)
    child = textwrap.dedent(
        f"""
        from backrub.session.events import Event, EventKind
        from backrub.store import Store
        store = Store.open({url!r})
        number = 0
        while True:
            seq = store.append_event({session_id!r}, Event(at=number, kind=EventKind.TICK))
            print(seq, flush=True)
            number += 1
        """
    )
    process = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    acknowledged = [int(process.stdout.readline()) for _ in range(25)]
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    process.stdout.close()
    stored = store.events(session_id)
    assert acknowledged == list(range(1, 26))
    assert len(stored) >= len(acknowledged)
    assert stored == [Event(at=number, kind=EventKind.TICK) for number in range(len(stored))]


@pytest.mark.parametrize("status", ["finished", "stopped"])
def test_an_ended_session_refuses_events_and_nothing_is_written(store: Store, status: str) -> None:
    session_id = store.start_session(PLAN)
    store.append_event(session_id, EVENTS[0])
    store.end_session(session_id, "finished" if status == "finished" else "stopped", {"n": 1})
    with pytest.raises(StoreError, match=f"is {status}"):
        store.append_event(session_id, EVENTS[1])
    assert store.events(session_id) == [EVENTS[0]]
    record = store.session(session_id)
    assert record.status == status
    assert record.event_count == 1
    assert record.summary == {"n": 1}
    assert record.ended_at is not None and record.ended_at >= record.created_at
    with pytest.raises(StoreError, match=f"is {status}"):
        store.end_session(session_id, "stopped", {})


def test_an_unknown_session_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="no session 'nope'"):
        store.append_event("nope", EVENTS[0])
    with pytest.raises(StoreError, match="no session"):
        store.events("nope")
    with pytest.raises(StoreError, match="no session"):
        store.session("nope")
    with pytest.raises(StoreError, match="no session"):
        store.end_session("nope", "finished", {})


def test_end_session_takes_only_finished_or_stopped(store: Store) -> None:
    session_id = store.start_session(PLAN)
    with pytest.raises(StoreError, match="not how a session ends"):
        store.end_session(session_id, "running", {})  # type: ignore[arg-type]
    assert store.session(session_id).status == "running"


# Refusals that change nothing


def test_a_database_from_a_newer_backrub_is_refused_unchanged(url: str, path: Path) -> None:
    Store.open(url).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.close()
    _assert_refused_unchanged(path, "newer version of backrub", "9999")


def test_a_garbage_file_is_refused_unchanged(path: Path) -> None:
    path.write_bytes(os.urandom(8192))
    _assert_refused_unchanged(path, "not a backrub database or it is damaged")


def test_a_damaged_sqlite_file_is_refused_unchanged(url: str, path: Path) -> None:
    with Store.open(url) as store:
        session_id = store.start_session(PLAN)
        for event in EVENTS:
            store.append_event(session_id, event)
    data = bytearray(path.read_bytes())
    data[4096:8192] = os.urandom(4096)  # a page in the middle, header intact
    path.write_bytes(bytes(data))
    _assert_refused_unchanged(path, "not a backrub database or it is damaged")


def test_a_sqlite_file_with_other_tables_is_refused_unchanged(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO recipes (name) VALUES ('bread')")
    connection.close()
    _assert_refused_unchanged(path, "not a backrub database", "recipes")


def test_a_missing_folder_is_reported_and_nothing_is_created(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(f"sqlite:///{tmp_path / 'absent' / 'backrub.sqlite3'}")
    assert _files(tmp_path) == []


def test_a_bad_url_is_refused_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKRUB_DATABASE_URL", "not a url")
    with pytest.raises(StoreError, match=r"^BACKRUB_DATABASE_URL: 'not a url' is not a database"):
        Store.open()


# Where the database lives


def test_the_environment_variable_points_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere.sqlite3"
    monkeypatch.setenv("BACKRUB_DATABASE_URL", f"sqlite:///{elsewhere}")
    assert database_url() == f"sqlite:///{elsewhere}"
    with Store.open() as store:
        assert store.location == str(elsewhere)
        store.create_profile("Ann", {})
    assert elsewhere.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG directories are Linux's")
def test_the_default_database_is_in_the_user_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("BACKRUB_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    expected = tmp_path / "data" / "backrub" / "backrub.sqlite3"
    assert default_database_path() == expected
    assert not expected.parent.exists()
    assert database_url() == f"sqlite:///{expected}"
    assert expected.parent.is_dir()
    with Store.open() as store:
        assert store.location == str(expected)
    assert expected.exists()


# Sessions


def test_a_session_keeps_its_plan_and_profile(store: Store) -> None:
    plan = make_plan(PlanRequest(minutes=10))
    profile_id = store.create_profile("Ann", {"minutes": 10})
    session_id = store.start_session(plan.to_json(), profile_id=profile_id)
    record = store.session(session_id)
    assert len(session_id) == 32 and uuid.UUID(hex=session_id).version == 4
    assert record.profile_id == profile_id
    assert record.status == "running" and record.running
    assert record.ended_at is None and record.summary is None and record.event_count == 0
    assert record.created_at.tzinfo is UTC
    assert Plan.from_json(record.plan) == plan


def test_start_session_refuses_what_is_not_a_plan(store: Store) -> None:
    with pytest.raises(StoreError, match="not a backrub plan"):
        store.start_session({"steps": []})
    with pytest.raises(StoreError, match="no profile 42"):
        store.start_session(PLAN, profile_id=42)
    assert store.sessions() == []


def _start_with_id(store: Store, monkeypatch: pytest.MonkeyPatch, hex_id: str) -> str:
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(hex=hex_id))
    return store.start_session(PLAN)


def test_find_session_by_a_unique_prefix(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _start_with_id(store, monkeypatch, "abcd1111" + "0" * 24)
    second = _start_with_id(store, monkeypatch, "abcd2222" + "0" * 24)
    assert store.find_session("abcd1").id == first
    assert store.find_session("ABCD2222").id == second
    assert store.find_session(first).id == first
    with pytest.raises(StoreError, match="matches more than one session"):
        store.find_session("abcd")
    with pytest.raises(StoreError, match="no session id starts with 'abce'"):
        store.find_session("abce")
    with pytest.raises(StoreError, match="too short"):
        store.find_session("abc")
    with pytest.raises(StoreError, match="not a session id"):
        store.find_session("ab%d")


def test_sessions_newest_first(store: Store) -> None:
    started = [store.start_session(PLAN) for _ in range(4)]
    assert [record.id for record in store.sessions()] == started[::-1]
    assert [record.id for record in store.sessions(limit=2)] == started[:1:-1]


def test_last_unfinished_is_the_newest_running_session(store: Store) -> None:
    assert store.last_unfinished() is None
    older, newer = store.start_session(PLAN), store.start_session(PLAN)
    store.append_event(older, EVENTS[0])
    record = store.last_unfinished()
    assert record is not None and record.id == newer
    store.end_session(newer, "stopped", {})
    record = store.last_unfinished()
    assert record is not None and record.id == older and record.event_count == 1
    store.end_session(older, "finished", {})
    assert store.last_unfinished() is None


# Profiles


def test_profiles_are_saved_found_and_updated(store: Store) -> None:
    ann = store.create_profile("Ann", {"minutes": 20, "pressure": 3})
    bob = store.create_profile("  Bob ", {})
    assert store.profile(ann) == store.profile("Ann")
    assert store.profile("Bob").id == bob
    assert store.profile(ann).data == {"minutes": 20, "pressure": 3}
    assert store.profile(ann).created_at.tzinfo is UTC
    store.update_profile(ann, {"minutes": 30})
    assert store.profile("Ann").data == {"minutes": 30}
    assert [profile.name for profile in store.profiles()] == ["Ann", "Bob"]


def test_profile_errors(store: Store) -> None:
    store.create_profile("Ann", {})
    with pytest.raises(StoreError, match="already exists"):
        store.create_profile("Ann", {"minutes": 5})
    with pytest.raises(StoreError, match="needs a name"):
        store.create_profile("  ", {})
    with pytest.raises(StoreError, match="no profile 'Zed'"):
        store.profile("Zed")
    with pytest.raises(StoreError, match="no profile 99"):
        store.update_profile(99, {})
    with pytest.raises(StoreError, match="cannot be stored as JSON"):
        store.create_profile("Cy", {"minutes": float("nan")})
    assert [profile.name for profile in store.profiles()] == ["Ann"]


def test_a_closed_store_refuses_to_work(url: str) -> None:
    store = Store.open(url)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.sessions()
