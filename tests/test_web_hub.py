"""The hub holds only the sessions someone uses, and loading one never stalls another.

A long evening must not fill the server's memory: sessions nobody follows are released, and the
next request loads them from the store to the same state. Loading (replaying) a session holds
only that session's lock, so presses in other sessions and the notifier go on meanwhile.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backrub.live import SAVE_EVERY, LiveRun
from backrub.planner import Plan, PlanRequest, make_plan
from backrub.session import EventKind, SessionStatus
from backrub.store import Store
from backrub.store.heard import details
from backrub.web.hub import NO_VERSION, RELEASE_IDLE, RELEASE_OVER, Hub
from backrub.web.lean import share
from tests.clock import Clock
from tests.conftest import log_reads

# What a device shows and the store decides; not the clocks, the process's own version counter
# or the newest press through this process (which a reload forgets, as a restart does).
SAME = ("status", "step", "next_step", "budget", "cues", "cue_count", "reaction", "knot_region")
GATE = 30.0  # seconds a stalled load waits at most, so a broken hub fails instead of hanging


@pytest.fixture
def store(tmp_path: Any) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'backrub.sqlite3'}") as opened:
        yield opened


def _shown(state: dict[str, Any]) -> dict[str, Any]:
    return {key: state[key] for key in SAME}


def test_an_ended_session_nobody_follows_is_released_and_reloads_the_same(store: Store) -> None:
    clock = Clock(1000.0)
    hub = Hub(store, monotonic=clock)
    session = hub.start(make_plan(PlanRequest(minutes=10)))
    hub.send_json(session, EventKind.MORE)
    hub.send_json(session, EventKind.STOP)
    _, before = hub.state(session)
    assert before["status"] == "stopped"
    clock.now += RELEASE_OVER - 1
    assert hub.release_idle() == []  # asked for a moment ago: kept
    clock.now += 2
    assert hub.release_idle() == [session]
    assert hub.held() == 0
    _, after = hub.state(session)
    assert hub.held() == 1
    assert _shown(after) == _shown(before)
    assert (after["seq"], after["clock"]) == (before["seq"], before["clock"])


def test_a_quiet_running_session_is_released_and_its_next_press_works(store: Store) -> None:
    clock = Clock(1000.0)
    hub = Hub(store, speed=20.0, monotonic=clock)
    session = hub.start(make_plan(PlanRequest(minutes=10)))
    hub.send_json(session, EventKind.MORE)
    _, before = hub.state(session)
    clock.now += RELEASE_IDLE - 1
    assert hub.release_idle() == []
    clock.now += 2
    assert hub.release_idle() == [session]
    _, after = hub.state(session)
    assert _shown(after) == _shown(before)
    # A save point was stored as it was let go: the clock goes on from there, not from the
    # last save point before it.
    assert after["seq"] == before["seq"] + 1
    assert after["clock"] >= before["clock"]
    pressed = json.loads(hub.send_json(session, EventKind.LESS))
    assert pressed["seq"] == after["seq"] + 1
    assert pressed["reaction"]["event"] == "less"


def test_a_session_with_a_live_stream_is_never_released(store: Store) -> None:
    import asyncio

    clock = Clock(1000.0)
    hub = Hub(store, monotonic=clock)
    session = hub.start(make_plan(PlanRequest(minutes=10)))
    hub.send_json(session, EventKind.STOP)

    async def followed_for_long() -> list[str]:
        with hub.watch(session):
            clock.now += RELEASE_OVER * 10
            return hub.release_idle()

    assert asyncio.run(followed_for_long()) == []
    # Idle from the moment its last stream closed.
    assert hub.release_idle() == []
    clock.now += RELEASE_OVER
    assert hub.release_idle() == [session]


def test_news_of_sessions_this_process_does_not_hold_is_not_kept(store: Store) -> None:
    hub = Hub(store)
    for number in range(1000):
        hub.changed_elsewhere(f"session-{number} 3")
    assert hub._changed == set()
    session = hub.start(make_plan(PlanRequest(minutes=10)))
    hub.changed_elsewhere(f"{session} 99")
    assert hub._changed == {session}


def test_a_released_running_session_counts_the_time_it_was_not_held(store: Store) -> None:
    plan = make_plan(PlanRequest(minutes=10))
    run = LiveRun.start(store, plan)
    now = datetime.now(UTC)
    # Its save point is five minutes old: one released then counts the five minutes...
    run.join(now - timedelta(minutes=5), now, within=float("inf"))
    assert run.now() >= 300
    # ...one found after a crash does not (nobody ran it meanwhile).
    again = LiveRun.start(store, plan)
    again.join(now - timedelta(minutes=5), now)
    assert again.now() < 300


def test_loading_a_slow_session_does_not_stall_another_sessions_press(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A session this process does not hold yet (another worker started it).
    slow = LiveRun.start(store, make_plan(PlanRequest(minutes=10))).id
    hub = Hub(store)
    fast = hub.start(make_plan(PlanRequest(minutes=10)))
    loading, gate = threading.Event(), threading.Event()
    replayed = store.numbered_events
    calls: list[str] = []

    def slow_replay(session_id: str, **options: Any) -> Any:
        if session_id == slow:
            calls.append(session_id)
            loading.set()
            gate.wait(GATE)
        return replayed(session_id, **options)

    monkeypatch.setattr(store, "numbered_events", slow_replay)
    order: list[str] = []
    loaded: list[object] = []

    def load() -> None:
        loaded.append(hub.followed(slow))
        order.append("slow session loaded")

    first, second = threading.Thread(target=load), threading.Thread(target=load)
    first.start()
    assert loading.wait(GATE)
    second.start()  # a second device asks for the same session while it loads
    hub.changed_elsewhere(f"{fast} 99")  # the notifier's thread
    hub.send_json(fast, EventKind.MORE)
    order.append("other session pressed")
    gate.set()
    first.join()
    second.join()
    assert order == ["other session pressed", "slow session loaded", "slow session loaded"]
    assert calls == [slow]  # loaded once, for both devices
    assert loaded[0] is loaded[1]
    assert hub.state(slow)[1]["status"] == SessionStatus.RUNNING.value


def test_steps_sharing_their_parts_read_and_copy_as_their_own() -> None:
    text = make_plan(PlanRequest(minutes=60)).to_json()
    first, second = share(Plan.from_json(text)), share(Plan.from_json(text))
    assert first.to_json() == second.to_json() == text
    step, twin = first.steps[0], second.steps[0]
    assert step.model_fields_set is twin.model_fields_set  # one set for both: less memory
    given = set(twin.model_fields_set)
    changed = step.model_copy(update={"cue": "slower now"})
    assert changed.cue == "slower now"
    assert twin.cue == step.cue != "slower now"
    assert twin.model_fields_set == given
    deep = copy.deepcopy(step)
    assert deep == step
    assert deep.model_fields_set is not step.model_fields_set


def test_a_hub_that_is_told_of_other_processes_events_reads_the_log_only_when_told(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = Hub(store)
    session = hub.start(make_plan(PlanRequest(minutes=10)))
    reads = log_reads(store, monkeypatch)
    hub.hears(False)  # nobody tells it: every press reads what others stored first
    hub.send_json(session, EventKind.MORE)
    assert reads == [session]
    hub.hears(True)
    version, _ = hub.state(session)
    hub.send_json(session, EventKind.LESS)
    assert hub.newer_state(session, version)[1] is not None
    assert reads == [session]  # nothing read: no other process stored anything
    # Another process stored an event: told, the next look reads it.
    other = LiveRun.resume(store, store.session(session))
    other.record_now(EventKind.COUGH)
    before = len(reads)
    hub.changed_elsewhere(f"{session} {other.seq}")
    _, state = hub.state(session)
    assert len(reads) > before
    assert state["seq"] == other.seq


def test_a_stream_look_on_the_event_loop_sends_the_press_state_and_leaves_clock_work_to_look(
    store: Store,
) -> None:
    hub = Hub(store)
    hub.hears(True)  # as when nothing else writes the database
    session = hub.start(make_plan(PlanRequest(minutes=10)))
    known = hub.look(session, NO_VERSION).version  # the stream's first look, in a thread
    pressed = hub.send_json(session, EventKind.MORE)
    look = hub.look_at_once(session, known)
    assert look is not None and look.version > known
    assert look.text == pressed  # the very state the press's reply carried
    assert json.loads(pressed)["reaction"]["event"] == "more"
    quiet = hub.look_at_once(session, look.version)
    assert quiet is not None and quiet.text is None  # nothing new: nothing sent
    # A save point falls due: that needs the database, so only `look` (in a thread) does it.
    hub.followed(session).run.offset += SAVE_EVERY
    assert hub.look_at_once(session, look.version) is None
    saved = hub.look(session, look.version)
    assert saved.text is not None
    assert json.loads(saved.text)["seq"] == json.loads(pressed)["seq"] + 1


def test_a_stream_takes_another_process_s_heard_press_on_the_event_loop(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process stored a press and the notifier heard it: the stream's look on the event
    loop takes it from what was heard and sends it, with no thread and no read of the log (in
    a busy second every thread may be waiting for the database). Not heard in full: `look`."""
    hub = Hub(store)
    hub.hears(True)
    session = hub.start(make_plan(PlanRequest(minutes=10)))
    other = LiveRun.resume(store, store.session(session))
    other.record_now(EventKind.MORE)
    heard = store.timed_events(session)
    store.heard.hear(session, other.seq, details(None, heard[-1][1], heard[-1][2]))
    hub.changed_elsewhere(f"{session} {other.seq}")

    def no_reading(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the log was read")

    with monkeypatch.context() as patched:
        patched.setattr(store, "timed_events", no_reading)
        look = hub.look_at_once(session, NO_VERSION)
    assert look is not None and look.text is not None
    assert json.loads(look.text)["seq"] == other.seq == 1
    # A press whose news was lost on the way (only the next one was heard): read in a thread.
    other.record_now(EventKind.LESS)
    other.record_now(EventKind.COUGH)
    heard = store.timed_events(session)
    store.heard.hear(session, other.seq, details(None, heard[-1][1], heard[-1][2]))
    hub.changed_elsewhere(f"{session} {other.seq}")
    assert hub.look_at_once(session, look.version) is None
    caught = hub.look(session, look.version)
    assert caught.text is not None and json.loads(caught.text)["seq"] == other.seq == 3
