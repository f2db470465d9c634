"""The store: schema at head, events committed before use, refusals that change nothing.

Most tests run twice, on SQLite and on PostgreSQL (the `database_url` fixture, tests/conftest.py);
those about SQLite's files (WAL, damaged or foreign files, folders) run on SQLite only, and a few
check what only PostgreSQL has (several processes migrating or appending at once, its settings).
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, make_url, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

import backrub.store.store as store_module
from backrub.planner import Plan, PlanRequest, make_plan
from backrub.session.events import Event, EventKind
from backrub.store import OutOfDate, Store, StoreError, database_url, default_database_path
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


# A test marked so runs on PostgreSQL only (its `database_url` is a fresh PostgreSQL database).
postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A plain engine on the test's database, for looking at it (and meddling) from outside."""
    plain = create_engine(database_url, poolclass=NullPool)
    yield plain
    plain.dispose()


def _run_together(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions in threads released at the same instant; each one's result or error."""
    start = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = actions[index]()
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


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


def test_a_new_database_gets_every_table_at_head(database_url: str, engine: Engine) -> None:
    Store.open(database_url).close()
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
        tables = set(inspect(connection).get_table_names())
    assert revision == head_revision()
    assert tables == {"alembic_version", *Base.metadata.tables}
    assert {"profiles", "sessions", "events"} <= tables


def test_a_closed_sqlite_database_is_one_file(url: str, path: Path) -> None:
    Store.open(url).close()
    assert _files(path.parent) == ["backrub.sqlite3"]  # WAL checkpointed and removed on close


def test_the_tables_match_the_migration(store: Store, engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_reopening_a_database_at_head_keeps_its_data(database_url: str) -> None:
    with Store.open(database_url) as first:
        session_id = first.start_session(PLAN)
        first.append_event(session_id, EVENTS[0])
    with Store.open(database_url) as second:
        assert second.events(session_id) == [EVENTS[0]]


def test_opening_a_database_at_head_does_not_migrate_again(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    Store.open(database_url).close()

    def no_upgrade(*args: object) -> None:
        raise AssertionError("the schema was upgraded again")

    monkeypatch.setattr(store_module, "upgrade", no_upgrade)
    with Store.open(database_url) as again:
        again.create_profile("Ann", {})
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert versions == [(head_revision(),)]


@postgresql_only  # SQLite: see the note in the docstring
def test_stores_opening_a_new_database_at_once_migrate_it_once(
    database_url: str, engine: Engine
) -> None:
    """Workers starting together on a new PostgreSQL database: the advisory lock lines up their
    migrations and the later ones find the schema at head.

    (On SQLite, `PRAGMA journal_mode=WAL` on a brand-new file can fail with "database is locked"
    when other connections convert it at the same instant: SQLite does not wait there.)
    """
    opened = _run_together(*[lambda: Store.open(database_url) for _ in range(3)])
    try:
        assert all(isinstance(store, Store) for store in opened), opened
        profile_id = opened[0].create_profile("Ann", {})
        assert opened[2].profile(profile_id).name == "Ann"
    finally:
        for store in opened:
            if isinstance(store, Store):
                store.close()
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert versions == [(head_revision(),)]


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


def test_an_appended_event_is_committed_when_append_returns(
    store: Store, database_url: str
) -> None:
    session_id = store.start_session(PLAN)
    with Store.open(database_url) as other:
        for count, event in enumerate(EVENTS, 1):
            store.append_event(session_id, event)
            assert other.events(session_id) == EVENTS[:count]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_every_event_survives_a_process_killed_right_after_appending(
    store: Store, database_url: str
) -> None:
    url = database_url
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
    if _is_sqlite(url):
        wal = Path(f"{make_url(url).database}-wal")
        assert wal.exists()  # the killed writer never checkpointed
    with Store.open(url) as reopened:
        events = reopened.events(session_id)
    assert events == [Event(at=number / 4, kind=EventKind.TICK) for number in range(count)]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_kill_at_any_instant_loses_no_acknowledged_event(store: Store, database_url: str) -> None:
    url = database_url
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


def test_an_append_after_an_old_seq_is_out_of_date_and_changes_nothing(store: Store) -> None:
    session_id = store.start_session(PLAN)
    assert store.append_event(session_id, EVENTS[0], after=0) == 1
    assert store.append_event(session_id, EVENTS[1], after=1) == 2
    with pytest.raises(OutOfDate):
        store.append_event(session_id, EVENTS[2], after=1)
    assert store.numbered_events(session_id, after=1) == [(2, EVENTS[1])]
    assert store.session(session_id).event_count == 2


def test_two_stores_appending_after_the_same_seq_have_one_winner(database_url: str) -> None:
    """Two processes (two Stores: separate engines, no lock in common) race for each next seq."""
    with Store.open(database_url) as first, Store.open(database_url) as second:
        session_id = first.start_session(PLAN)
        for seen in range(8):
            event = Event(at=float(seen), kind=EventKind.TICK)
            outcomes = _run_together(
                partial(first.append_event, session_id, event, after=seen),
                partial(second.append_event, session_id, event, after=seen),
            )
            won = [outcome for outcome in outcomes if isinstance(outcome, int)]
            lost = [outcome for outcome in outcomes if isinstance(outcome, OutOfDate)]
            assert won == [seen + 1] and len(lost) == 1, outcomes
        numbered = second.numbered_events(session_id)
    assert [seq for seq, _ in numbered] == list(range(1, 9))
    assert [event.at for _, event in numbered] == [float(number) for number in range(8)]


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


def _postgres_snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted: what a refusal must leave exactly as it was."""
    with engine.connect() as connection:
        names = sorted(inspect(connection).get_table_names())
        return {
            name: sorted(
                tuple(map(str, row)) for row in connection.execute(text(f'SELECT * FROM "{name}"'))
            )
            for name in names
        }


def _assert_postgres_refused_unchanged(url: str, engine: Engine, *phrases: str) -> None:
    before = _postgres_snapshot(engine)
    with pytest.raises(StoreError) as refused:
        Store.open(url)
    message = str(refused.value)
    assert "\n" not in message
    for phrase in (*phrases, "nothing was changed"):
        assert phrase in message
    assert _postgres_snapshot(engine) == before


@postgresql_only
def test_a_postgresql_database_from_a_newer_backrub_is_refused_unchanged(
    database_url: str, engine: Engine
) -> None:
    with Store.open(database_url) as store:
        store.create_profile("Ann", {"minutes": 10})
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    _assert_postgres_refused_unchanged(database_url, engine, "newer version of backrub", "9999")


@postgresql_only
def test_a_postgresql_database_with_other_tables_is_refused_unchanged(
    database_url: str, engine: Engine
) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE recipes (id serial PRIMARY KEY, name text)"))
        connection.execute(text("INSERT INTO recipes (name) VALUES ('bread')"))
    _assert_postgres_refused_unchanged(database_url, engine, "not a backrub database", "recipes")


def test_an_unreachable_postgresql_server_is_one_line() -> None:
    url = "postgresql+psycopg://backrub:hunter2@127.0.0.1:1/backrub"
    with pytest.raises(StoreError) as refused:
        Store.open(url)
    message = str(refused.value)
    assert message.startswith("postgresql+psycopg://backrub:***@127.0.0.1:1/backrub: ")
    assert "cannot read the database" in message
    assert "\n" not in message and "hunter2" not in message


def test_a_missing_postgresql_database_is_one_line(postgres_server: str) -> None:
    missing = make_url(postgres_server).set(database=f"backrub_absent_{uuid.uuid4().hex[:8]}")
    with pytest.raises(StoreError, match="does not exist") as refused:
        Store.open(missing.render_as_string(hide_password=False))
    assert "\n" not in str(refused.value)


@postgresql_only
@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_postgresql_url_without_a_driver_uses_psycopg(database_url: str, scheme: str) -> None:
    bare = make_url(database_url).set(drivername=scheme).render_as_string(hide_password=False)
    with Store.open(bare) as store:
        store.create_profile("Ann", {})
    with Store.open(database_url) as store:
        assert [profile.name for profile in store.profiles()] == ["Ann"]


@postgresql_only
def test_postgresql_connections_have_time_limits_and_the_survey_cannot_write(
    database_url: str,
) -> None:
    from backrub.store.engine import read_only_engine

    writer = writer_engine(make_url(database_url))
    reader = read_only_engine(make_url(database_url))
    try:
        with writer.connect() as connection:

            def setting(name: str) -> object:
                return connection.exec_driver_sql(f"SHOW {name}").scalar()

            assert setting("lock_timeout") == "10s"
            assert setting("statement_timeout") == "1min"
            assert setting("idle_in_transaction_session_timeout") == "1min"
            assert setting("application_name") == "backrub"
            # A connection the network cut is noticed, not waited on for many minutes.
            parameters = connection.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
            assert parameters["keepalives"] == "1"
            assert parameters["tcp_user_timeout"] == "20000"
        with reader.connect() as connection:
            assert connection.exec_driver_sql("SHOW transaction_read_only").scalar() == "on"
    finally:
        writer.dispose()
        reader.dispose()


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


def test_the_database_itself_keeps_unowned_profile_names_unique(
    store: Store, engine: Engine
) -> None:
    store.create_profile("Ann", {})
    insert = text(
        "INSERT INTO profiles (name, created_at, data) VALUES ('Ann', CURRENT_TIMESTAMP, '{}')"
    )
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert)
    assert [profile.name for profile in store.profiles()] == ["Ann"]


def test_two_stores_saving_one_profile_name_at_once_have_one_winner(database_url: str) -> None:
    with Store.open(database_url) as first, Store.open(database_url) as second:
        results = _run_together(
            partial(first.create_profile, "Ann", {}), partial(second.create_profile, "Ann", {})
        )
        errors = [result for result in results if isinstance(result, Exception)]
        assert len(errors) == 1, results
        assert isinstance(errors[0], StoreError)
        assert "a profile named 'Ann' already exists" in str(errors[0])
        assert [profile.name for profile in first.profiles()] == ["Ann"]


def test_a_closed_store_refuses_to_work(database_url: str) -> None:
    store = Store.open(database_url)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.sessions()
