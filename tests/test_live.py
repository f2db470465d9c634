"""LiveRun shared by several processes: each catches up with what the others stored.

Each process starts its session clock when it first loads the session, so two processes'
clocks differ a little. The log in the store is the one truth every process converges on.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from backrub.live import LiveRun
from backrub.planner import PlanRequest, make_plan
from backrub.session import Event, EventKind, SessionEngine, SessionStatus
from backrub.session.summary import summarize
from backrub.store import Store, StoreError
from tests.clock import Clock


def _pair(store: Store) -> tuple[LiveRun, Clock, LiveRun, Clock]:
    """The session started by one process and loaded a moment later by another."""
    first_clock, second_clock = Clock(), Clock()
    first = LiveRun.start(store, make_plan(PlanRequest(minutes=10)), monotonic=first_clock)
    second = LiveRun.resume(store, store.session(first.id), monotonic=second_clock)
    return first, first_clock, second, second_clock


def test_events_stored_by_one_process_are_applied_by_the_other(store: Store) -> None:
    first, first_clock, second, second_clock = _pair(store)
    first_clock.now = second_clock.now = 2.0
    first.time_passes()
    first.record_now(EventKind.MORE)
    assert second.catch_up()
    assert second.seq == first.seq
    assert second.engine.state.pressure_offset == first.engine.state.pressure_offset == 1
    assert not second.catch_up()  # nothing new the second time


def test_a_process_whose_clock_ran_ahead_replays_the_log_and_takes_its_clock(
    store: Store,
) -> None:
    first, first_clock, second, second_clock = _pair(store)
    # The second process has let its clock (and its engine) run to 5 s without storing
    # anything, while the first, a little behind, stores feedback at 1 s.
    second_clock.now = 5.0
    second.time_passes()
    assert second.engine.state.clock == pytest.approx(5.0)
    first_clock.now = 1.0
    first.time_passes()
    first.record_now(EventKind.MORE)
    first.record_now(EventKind.COUGH)

    assert second.catch_up()

    assert second.seq == first.seq
    assert second.engine.state.pressure_offset == first.engine.state.pressure_offset == 1
    assert len(second.engine.state.reactions) == len(first.engine.state.reactions)
    # Both show the clock of the process that stored the newest event (stored a moment ago).
    assert second.now() == pytest.approx(first.now(), abs=0.5)
    # Its next event goes into the log after the others, and the first process follows it.
    second_clock.now += 2.0
    second.record_now(EventKind.LESS)
    assert first.catch_up()
    assert first.engine.state.pressure_offset == second.engine.state.pressure_offset == 0
    assert first.now() == pytest.approx(second.now(), abs=0.5)


@pytest.mark.parametrize(
    ("watched", "joined_at"),
    [
        (True, 90.0),  # the first process saves points while paused: the pause goes on
        (False, 30.0),  # nobody ran it for a minute: not counted, as after a crash
    ],
)
def test_a_pause_is_never_work_when_another_process_resumes_the_session(
    store: Store, watched: bool, joined_at: float
) -> None:
    first, first_clock, _, _ = _pair(store)
    first_clock.now = 30.0
    first.time_passes()
    first.record_now(EventKind.PAUSE)
    worked = first.engine.state.worked
    if watched:  # a device on the first process follows the paused session for a minute
        for moment in range(35, 95, 5):
            first_clock.now = float(moment)
            first.time_passes()
    first_clock.now = 90.0
    # A minute into the pause, a device on the second process loads the session.
    _, last, recorded = store.timed_events(first.id)[-1]
    second_clock = Clock()
    second = LiveRun.resume(store, store.session(first.id), monotonic=second_clock)
    second.join(recorded, recorded + timedelta(seconds=90.0 - last.at))
    assert second.now() == pytest.approx(joined_at)

    # Half a minute later it resumes there; both processes then run for half a minute.
    first_clock.now, second_clock.now = 120.0, 30.0
    second.record_now(EventKind.RESUME)
    assert first.catch_up()
    first_clock.now, second_clock.now = 150.0, 60.0
    first.time_passes()
    second.time_passes()

    assert second.engine.state.worked == pytest.approx(worked + 30.0, abs=0.5)
    assert first.engine.state.worked == pytest.approx(worked + 30.0, abs=0.5)
    assert first.now() == pytest.approx(second.now(), abs=0.5)


@pytest.mark.parametrize(
    ("since", "paused", "expected"),
    [
        (4.0, False, 7.0),  # someone is running it: start where their clock is
        (60.0, False, 3.0),  # nobody has for a minute (a server was down): as after a crash
        (4.0, True, 7.0),  # paused: the pause goes on (and is counted as pause, not work)
    ],
)
def test_a_process_joining_a_running_session_starts_from_the_wall_clock(
    store: Store, since: float, paused: bool, expected: float
) -> None:
    first, first_clock, _, _ = _pair(store)
    first_clock.now = 3.0
    first.time_passes()
    first.record_now(EventKind.PAUSE if paused else EventKind.MORE)
    recorded = store.last_recorded_at(first.id)
    assert recorded is not None and recorded.tzinfo is not None

    joining = LiveRun.resume(store, store.session(first.id), monotonic=Clock())
    joining.join(recorded, recorded + timedelta(seconds=since))

    assert joining.now() == pytest.approx(expected)
    assert joining.engine.state.clock == pytest.approx(3.0)  # nothing applied yet: just time


def test_the_newest_event_time_is_none_before_any_event_and_refused_for_others(
    store: Store,
) -> None:
    run = LiveRun.start(store, make_plan(PlanRequest(minutes=5)))
    assert store.last_recorded_at(run.id) is None
    with pytest.raises(StoreError, match="no session"):
        store.last_recorded_at("0" * 32)


def test_a_session_that_finishes_on_its_own_replays_as_finished_everywhere(store: Store) -> None:
    first, first_clock, second, _ = _pair(store)
    first_clock.now = 5.0
    first.time_passes()
    first_clock.now = 2 * first.engine.budget  # well past the end: the guide ran to the end
    first.time_passes()
    assert first.engine.status is SessionStatus.FINISHED
    assert store.events(first.id)[-1].kind is EventKind.END  # logged like a stop
    assert store.session(first.id).status == "finished"

    # The other process reads the end from the log: finished, nothing refused.
    assert second.catch_up()
    assert second.engine.status is SessionStatus.FINISHED and second.ended
    # After a restart the log alone replays to the same end, at the same moment.
    restarted = LiveRun.resume(store, store.session(first.id), monotonic=Clock())
    assert restarted.engine.status is SessionStatus.FINISHED
    assert restarted.engine.state.clock == pytest.approx(first.engine.state.clock)
    assert summarize(restarted.engine) == summarize(first.engine)
    restarted.time_passes()  # nothing more to store: no error
    assert len(store.events(first.id)) == first.seq


def test_a_finished_session_logged_without_its_end_still_loads_as_finished(store: Store) -> None:
    """Logs written before the end was an event: the store says finished, the log stops at
    the last save point."""
    run = LiveRun.start(store, make_plan(PlanRequest(minutes=5)), monotonic=Clock())
    run.record(Event(at=20.0, kind=EventKind.TICK))
    finished = SessionEngine.replay(run.engine.plan, store.events(run.id))
    finished.advance(10_000)
    store.end_session(run.id, "finished", summarize(finished))

    loaded = LiveRun.resume(store, store.session(run.id), monotonic=Clock())

    assert loaded.engine.status is SessionStatus.FINISHED and loaded.ended
    assert summarize(loaded.engine) == summarize(finished)


def test_devices_cannot_log_the_end() -> None:
    from pydantic import ValidationError

    from backrub.web.api import EventIn

    with pytest.raises(ValidationError, match="'end' is logged when the session finishes"):
        EventIn(kind=EventKind.END)
