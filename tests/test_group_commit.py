"""Group commit on SQLite (`store/group_commit.py`): appends queued while a commit is in flight
are written in one transaction, and each press is still told only its own outcome.

To make a batch of known appends, the test holds the store's write lock while a first append
(the plug) leads, so the others queue behind it; once they are all queued, the lock is let go:
the plug's batch commits alone, then the queued appends go in one batch together.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from backrub.session.events import Event, EventKind
from backrub.store import AlreadyStored, OutOfDate, Store, StoreError

PLAN = {"schema": "backrub.plan", "version": 1}
MORE = Event(at=1.0, kind=EventKind.MORE)
COUGH = Event(at=2.0, kind=EventKind.COUGH)
LESS = Event(at=3.0, kind=EventKind.LESS)

Outcome = int | BaseException


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "log.sqlite3"


@pytest.fixture
def store(path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{path}") as opened:
        yield opened


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "the appends never queued"
        time.sleep(0.001)


def _outcome(append: Callable[[], int]) -> Outcome:
    try:
        return append()
    except BaseException as error:
        return error


def in_one_batch(store: Store, appends: list[Callable[[], int]]) -> list[Outcome]:
    """Run `appends` in threads so that they are all written in one batch; their outcomes."""
    group = store._group
    assert group is not None
    plug = store.start_session(PLAN)
    outcomes: list[Outcome] = [0] * len(appends)

    def run(number: int) -> None:
        outcomes[number] = _outcome(appends[number])

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(appends))]
    with store._write_lock:
        plugging = threading.Thread(target=store.append_event, args=(plug, MORE))
        plugging.start()
        _until(group.writing)  # the plug leads, and waits for the lock we hold
        for thread in threads:
            thread.start()
        _until(lambda: group.waiting() == len(appends))
    for thread in [plugging, *threads]:
        thread.join()
    assert group.largest >= len(appends)
    return outcomes


def _read_back(path: Path) -> dict[str, list[tuple[int, str, float]]]:
    """Every session's events as a fresh connection reads them from the file: what is durable."""
    found: dict[str, list[tuple[int, str, float]]] = {}
    with sqlite3.connect(path) as plain:
        for session_id, seq, kind, at in plain.execute(
            "SELECT session_id, seq, kind, at FROM events ORDER BY session_id, seq"
        ):
            found.setdefault(session_id, []).append((seq, kind, at))
    return found


def test_concurrent_appends_from_many_threads_are_all_stored_in_each_sessions_order(
    path: Path,
) -> None:
    threads, each, shared_by = 16, 25, 4
    with Store.open(f"sqlite:///{path}") as store:
        own = [store.start_session(PLAN) for _ in range(threads)]
        shared = store.start_session(PLAN)
        start = threading.Barrier(threads)
        answers: dict[int, list[int]] = {}

        def press(number: int) -> None:
            start.wait()
            got = []
            for n in range(each):
                # Its own session (one appender), or one session shared by several threads.
                session = shared if number < shared_by else own[number]
                got.append(
                    store.append_event(session, Event(at=number * 1000 + n, kind=EventKind.MORE))
                )
            answers[number] = got

        workers = [threading.Thread(target=press, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert store._group is not None and store._group.largest > 1  # grouped indeed
    stored = _read_back(path)
    for number in range(shared_by, threads):
        assert answers[number] == list(range(1, each + 1))
        assert [at for _, _, at in stored[own[number]]] == [number * 1000 + n for n in range(each)]
    # The shared session: numbered 1..N without a gap, each thread's events in its own order,
    # and each told the number its event was stored under.
    rows = stored[shared]
    assert [seq for seq, _, _ in rows] == list(range(1, shared_by * each + 1))
    at_of = {seq: at for seq, _, at in rows}
    for number in range(shared_by):
        told = answers[number]
        assert told == sorted(told)
        assert [at_of[seq] for seq in told] == [number * 1000 + n for n in range(each)]


def test_a_batch_stores_each_of_its_appends_and_answers_each_its_own_number(
    store: Store, path: Path
) -> None:
    first, second = store.start_session(PLAN), store.start_session(PLAN)
    store.append_event(second, MORE)
    outcomes = in_one_batch(
        store,
        [
            lambda: store.append_event(first, MORE),
            lambda: store.append_event(second, COUGH, after=1),
            lambda: store.append_event(first, LESS, after=1),
        ],
    )
    assert sorted(o for o in outcomes if isinstance(o, int)) == [1, 2, 2]
    assert store.events(first) == [MORE, LESS]
    assert store.events(second) == [MORE, COUGH]
    stored = _read_back(path)
    assert [kind for _, kind, _ in stored[first]] == ["more", "less"]


def test_a_press_repeated_within_one_batch_is_stored_once(store: Store) -> None:
    session = store.start_session(PLAN)
    outcomes = in_one_batch(
        store, [lambda: store.append_event(session, MORE, press_id="p-1") for _ in range(3)]
    )
    stored = [o for o in outcomes if isinstance(o, int)]
    repeats = [o for o in outcomes if isinstance(o, AlreadyStored)]
    assert stored == [1] and len(repeats) == 2
    assert all(r.seq == 1 for r in repeats)
    assert store.events(session) == [MORE]


def test_an_append_refused_alone_leaves_the_rest_of_its_batch_stored(
    store: Store, path: Path
) -> None:
    sessions = [store.start_session(PLAN) for _ in range(4)]
    ended = sessions[3]
    store.end_session(ended, "stopped", {})
    with sqlite3.connect(path) as plain:
        plain.execute(
            "CREATE TRIGGER no_cough BEFORE INSERT ON events WHEN NEW.kind = 'cough' "
            "BEGIN SELECT RAISE(ABORT, 'no coughs here'); END"
        )
    outcomes = in_one_batch(
        store,
        [
            lambda: store.append_event(sessions[0], MORE),
            lambda: store.append_event(sessions[1], COUGH),  # the database refuses it
            lambda: store.append_event(sessions[2], MORE, after=5),  # out of date
            lambda: store.append_event(ended, MORE),  # the session has ended
            lambda: store.append_event(sessions[2], LESS),
        ],
    )
    assert outcomes[0] == 1 and outcomes[4] == 1
    assert isinstance(outcomes[1], StoreError) and "no coughs here" in str(outcomes[1])
    assert isinstance(outcomes[2], OutOfDate)
    assert isinstance(outcomes[3], StoreError) and "stopped" in str(outcomes[3])
    assert store.events(sessions[0]) == [MORE]
    assert store.events(sessions[1]) == []
    assert store.events(sessions[2]) == [LESS]


def _fail_commits_with_a_cough(path: Path) -> None:
    """A cough makes its transaction's COMMIT fail: it leaves a deferred foreign key dangling,
    which SQLite checks only at the commit, as a disk failing at the flush would."""
    with sqlite3.connect(path) as plain:
        plain.executescript(
            "CREATE TABLE parents (id INTEGER PRIMARY KEY);"
            "CREATE TABLE orphans (parent INTEGER REFERENCES parents (id)"
            " DEFERRABLE INITIALLY DEFERRED);"
            "CREATE TRIGGER cough_fails_commit AFTER INSERT ON events"
            " WHEN NEW.kind = 'cough' BEGIN INSERT INTO orphans VALUES (42); END;"
        )


def test_a_failed_batch_fails_each_of_its_presses_and_no_other_batch(
    store: Store, path: Path
) -> None:
    sessions = [store.start_session(PLAN) for _ in range(3)]
    assert store.append_event(sessions[0], MORE) == 1  # a batch before
    _fail_commits_with_a_cough(path)
    outcomes = in_one_batch(
        store,
        [
            lambda: store.append_event(sessions[0], LESS),
            lambda: store.append_event(sessions[1], COUGH),
            lambda: store.append_event(sessions[2], MORE, press_id="kept-for-later"),
        ],
    )
    assert all(isinstance(o, StoreError) for o in outcomes), outcomes
    assert all("FOREIGN KEY" in str(o) for o in outcomes)
    assert len({id(o) for o in outcomes}) == 3  # each press raises its own error
    # Nothing of the failed batch is stored; the batch before is, and the next goes in.
    assert store.events(sessions[0]) == [MORE]
    assert store.events(sessions[1]) == store.events(sessions[2]) == []
    assert store.append_event(sessions[2], MORE, press_id="kept-for-later") == 1
    assert store.append_event(sessions[0], LESS, after=1) == 2
    stored = _read_back(path)
    assert [kind for _, kind, _ in stored[sessions[0]]] == ["more", "less"]
    assert sessions[1] not in stored


def test_a_batch_waits_for_the_disk_unless_it_holds_save_points_only(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save point (a tick) alone may skip the flush; a press batched with save points must
    not lose it: the batch is flushed when any of its appends is a press."""
    statements = store._sqlite
    assert statements is not None
    seen: list[bool] = []
    transaction = statements.transaction

    def noting(driver: sqlite3.Connection, *, flushed: bool = True) -> object:
        seen.append(flushed)
        return transaction(driver, flushed=flushed)

    monkeypatch.setattr(statements, "transaction", noting)
    sessions = [store.start_session(PLAN) for _ in range(3)]
    tick = Event(at=1.5, kind=EventKind.TICK)
    in_one_batch(
        store,
        [
            lambda: store.append_event(sessions[0], tick),
            lambda: store.append_event(sessions[1], COUGH),
            lambda: store.append_event(sessions[2], tick),
        ],
    )
    assert seen == [True, True]  # the plug's press, then the mixed batch
    in_one_batch(store, [partial(store.append_event, s, tick, after=1) for s in sessions[::2]])
    assert seen[2:] == [True, False]  # the plug, then save points only
    assert [len(store.events(s)) for s in sessions] == [2, 1, 2]
