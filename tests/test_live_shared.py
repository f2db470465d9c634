"""Save points when two processes run one session's clock (hosted mode, two workers): both let
the clock run past a step's end, one stores the save point first. The other takes it as its own
save point, and does not read and replay the whole log for it."""

from __future__ import annotations

from backrub.live import SAVE_EVERY, SAVE_GRACE, LiveRun
from backrub.planner import PlanRequest, make_plan
from backrub.session import EventKind, SessionEngine
from backrub.store import Store
from tests.clock import Clock


def _both_past_a_step_end(store: Store) -> tuple[LiveRun, LiveRun, Clock]:
    """Two processes on one session; both let the clock run past the first step's end, the
    first stores that save point, the second's try comes second (nothing stored)."""
    first_clock, second_clock = Clock(), Clock()
    first = LiveRun.start(store, make_plan(PlanRequest(minutes=10)), monotonic=first_clock)
    second = LiveRun.resume(store, store.session(first.id), monotonic=second_clock)
    step = first.engine.state.current
    assert step is not None
    first_clock.now = step.seconds + 1.0
    first.time_passes()
    assert [event.kind for event in store.events(first.id)] == [EventKind.TICK]
    second_clock.now = step.seconds + 3.0
    second.time_passes()  # its clock is past the save point now; its own is refused
    assert len(store.events(first.id)) == 1
    return first, second, second_clock


def test_a_save_point_from_before_this_process_clock_is_taken_without_a_replay(
    store: Store,
) -> None:
    first, second, _ = _both_past_a_step_end(store)
    engine = second.engine
    clock = engine.state.clock

    assert second.catch_up()

    # The same engine, taken on: a replay would have read the whole log and built it anew.
    assert second.engine is engine
    assert second.seq == first.seq == 1
    # ...and it is where a replay of the log, run on to the same clock, is.
    replayed = SessionEngine.replay(engine.plan, store.events(first.id))
    replayed.advance(clock)
    assert second.engine.state == replayed.state


def test_another_process_save_point_counts_as_this_one(store: Store) -> None:
    """The save point the first process stored is the second's too: it stores its own only
    SAVE_EVERY later, so two processes running a clock do not store two of each."""
    first_clock, second_clock = Clock(), Clock()
    first = LiveRun.start(store, make_plan(PlanRequest(minutes=10)), monotonic=first_clock)
    second = LiveRun.resume(store, store.session(first.id), monotonic=second_clock)
    step = first.engine.state.current
    assert step is not None and step.seconds > 2 * SAVE_EVERY  # no step change in this test
    first_clock.now = SAVE_EVERY + 1.0
    first.time_passes()
    second_clock.now = 2.0
    second.time_passes()
    assert [event.kind for event in store.events(first.id)] == [EventKind.TICK]

    assert second.catch_up()
    second_clock.now += SAVE_EVERY / 2
    second.time_passes()
    assert len(store.events(first.id)) == 1

    second_clock.now += SAVE_EVERY
    second.time_passes()
    events = store.events(first.id)
    assert [event.kind for event in events] == [EventKind.TICK, EventKind.TICK]
    assert events[-1].at >= events[0].at + SAVE_EVERY


def test_the_process_that_stored_the_newest_event_stores_the_save_point(store: Store) -> None:
    """Both processes run the clock past a save point: the one that stored the newest event
    (the one a device presses on) stores it; the other waits, and takes it when it hears it,
    instead of both storing at once and one refused. If the first has gone, the other stores
    it SAVE_GRACE later."""
    clock = Clock()
    first = LiveRun.start(store, make_plan(PlanRequest(minutes=10)), monotonic=clock)
    second = LiveRun.resume(store, store.session(first.id), monotonic=clock)
    step = first.engine.state.current
    assert step is not None and step.seconds > 2 * SAVE_EVERY + 10  # no step change here
    clock.now = 2.0
    first.record_now(EventKind.MORE)
    assert second.catch_up()

    clock.now += SAVE_EVERY + 0.5
    second.time_passes()  # the other process looks first
    assert second.seq == 1  # nothing stored: not its save point
    first.time_passes()
    assert first.seq == 2
    assert second.catch_up()
    clock.now += SAVE_EVERY + 0.5
    second.time_passes()
    assert second.seq == 2  # the next one is the first's again
    clock.now += SAVE_GRACE  # ...which has gone: the other stores it
    second.time_passes()
    assert second.seq == 3
    assert [event.kind for event in store.events(first.id)] == [
        EventKind.MORE,
        EventKind.TICK,
        EventKind.TICK,
    ]
