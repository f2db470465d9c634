"""Events heard with their NOTIFY (store/heard.py): a told catch-up takes them without reading
the log, when they follow on from what the engine has; otherwise it reads the log."""

from __future__ import annotations

from typing import Any

import pytest

from backrub.live import LiveRun
from backrub.planner import PlanRequest, make_plan
from backrub.session import EventKind
from backrub.store import Store
from backrub.store.heard import HeardEvents, details
from tests.clock import Clock
from tests.conftest import log_reads


def _told(store: Store, session: str, *, first: int = 1) -> None:
    """Hear the session's events from seq `first` on, as their notifications carry them."""
    for seq, event, recorded_at in store.timed_events(session, after=first - 1):
        store.heard.hear(session, seq, details(None, event, recorded_at))


def _pair(store: Store) -> tuple[LiveRun, LiveRun, Clock]:
    first_clock, second_clock = Clock(), Clock()
    first = LiveRun.start(store, make_plan(PlanRequest(minutes=10)), monotonic=first_clock)
    second = LiveRun.resume(store, store.session(first.id), monotonic=second_clock)
    first_clock.now = second_clock.now = 2.0
    first.record_now(EventKind.MORE)
    first.record_now(EventKind.COUGH)
    return first, second, second_clock


def test_a_told_catch_up_takes_the_heard_events_without_reading_the_log(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second, _ = _pair(store)
    _told(store, first.id)

    def no_reading(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the log was read")

    monkeypatch.setattr(store, "timed_events", no_reading)
    assert second.catch_up(heard=True)

    assert second.seq == first.seq == 2
    assert second.engine.state == first.engine.state
    assert second.now() == pytest.approx(first.now(), abs=0.5)


def test_heard_events_with_a_gap_before_them_are_read_from_the_log(store: Store) -> None:
    first, second, _ = _pair(store)
    _told(store, first.id, first=2)  # the news of event 1 was lost

    assert second.catch_up(heard=True)
    assert second.seq == 2
    assert second.engine.state == first.engine.state


def test_heard_events_are_only_for_their_owner_and_follow_on_without_gaps() -> None:
    heard = HeardEvents()
    assert heard.after("s", 0, None) is None  # nothing heard
    from datetime import UTC, datetime

    from backrub.session import Event

    now = datetime.now(UTC)
    heard.hear("s", 1, details(7, Event(at=1.0, kind=EventKind.MORE), now))
    assert heard.after("s", 0, None) is None  # another account's: the log answers
    heard.hear("s", 1, details(None, Event(at=1.0, kind=EventKind.MORE), now))
    heard.hear("s", 2, details(None, Event(at=2.0, kind=EventKind.LESS), now))
    taken = heard.after("s", 0, None)
    assert taken is not None and [(seq, e.kind) for seq, e, _ in taken] == [
        (1, EventKind.MORE),
        (2, EventKind.LESS),
    ]
    assert heard.after("s", 2, None) is None  # taken: nothing more to give
    heard.hear("s", 3, "not json")
    assert heard.after("s", 2, None) is None  # unreadable: the log answers


def test_a_heard_catch_up_never_reads_the_log_and_says_when_it_must(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`catch_up_heard` (a stream's look on the event loop) takes what was heard, and when that
    is not enough says so without reading the log: the catch-up in a thread reads it then."""
    first, second, _ = _pair(store)
    _told(store, first.id)
    reads = log_reads(store, monkeypatch)
    assert second.catch_up_heard()
    assert second.seq == 2 and second.engine.state == first.engine.state
    first.record_now(EventKind.LESS)
    first.record_now(EventKind.MORE)
    _told(store, first.id, first=4)  # the news of event 3 was lost
    reads.clear()  # (hearing them read them, as the notifier had them from the commit)
    assert not second.catch_up_heard()  # not enough: the log must be read
    assert second.seq == 2 and reads == []
    assert second.catch_up(heard=True)
    assert second.seq == 4 and second.engine.state == first.engine.state
    assert reads == [first.id]
