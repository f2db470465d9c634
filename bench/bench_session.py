"""Live-session figures: events per second with the SQLite log, and plan-plus-replay time.

Run with `make bench`. Prints figures; asserts nothing.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

from backrub.planner import PlanRequest, make_plan
from backrub.session import Event, EventKind, SessionEngine
from backrub.store import Store

FEEDBACK = [
    EventKind.MORE,
    EventKind.LESS,
    EventKind.FELT,
    EventKind.TICK,
    EventKind.COUGH,
    EventKind.TICKLISH,
    EventKind.KNOT,
    EventKind.STILL_TIGHT,
    EventKind.RELEASED,
]


def scripted_events(count: int, span: float, seed: int) -> list[Event]:
    """A plausible feedback script: mostly pressure requests, some knots, no stop."""
    chooser = random.Random(seed)
    times = sorted(chooser.uniform(0, span) for _ in range(count))
    events = []
    for at in times:
        kind = chooser.choice(FEEDBACK)
        value = chooser.randint(0, 10) if kind is EventKind.FELT else None
        events.append(Event(at=round(at, 1), kind=kind, value=value))
    return events


def events_per_second_with_log(count: int) -> tuple[float, float]:
    """Each event checked, committed to SQLite, then applied: the guide's own path."""
    plan = make_plan(PlanRequest(minutes=90))
    events = scripted_events(count, 85 * 60, seed=1)
    with (
        tempfile.TemporaryDirectory() as folder,
        Store.open(f"sqlite:///{Path(folder) / 'bench.sqlite3'}") as store,
    ):
        session_id = store.start_session(plan.to_json())
        engine = SessionEngine(plan)
        start = time.perf_counter()
        for event in events:
            engine.check(event)
            store.append_event(session_id, event)
            engine.apply(event)
        elapsed = time.perf_counter() - start
        # The same events, engine only, for the share the database takes.
        start = time.perf_counter()
        SessionEngine.replay(plan, events)
        engine_only = time.perf_counter() - start
    return count / elapsed, count / engine_only


def plan_and_replay_seconds(repeats: int) -> list[float]:
    events = scripted_events(200, 58 * 60, seed=2)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        plan = make_plan(PlanRequest(minutes=60, activities=("computer-work",)))
        engine = SessionEngine.replay(plan, events)
        engine.advance(engine.state.clock + engine.budget * 2)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    print("backrub session benchmark")
    logged, engine_only = events_per_second_with_log(300)
    print(f"  events/s through the engine with the SQLite log (commit per event): {logged:,.0f}")
    print(f"  events/s through the engine alone: {engine_only:,.0f}")
    samples = plan_and_replay_seconds(5)
    print(
        f"  plan + replay of a 60-minute session with 200 events: "
        f"{statistics.median(samples) * 1000:.0f} ms median, {max(samples) * 1000:.0f} ms worst"
    )


if __name__ == "__main__":
    main()
