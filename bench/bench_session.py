"""Live-session figures: events per second with the SQLite log, and plan-plus-replay time.

Run with `make bench`. Prints figures; asserts nothing.

`python bench/bench_session.py --instructions` counts instead the instructions the engine
executes per event on the 10- and 90-minute scripts, under valgrind's callgrind (when valgrind
is installed; a few minutes): unlike time, the count does not depend on how busy the machine
is, so the cost ratio 90/10 can be read on a shared machine.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from backrub.planner import Plan, PlanRequest, make_plan
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


# The engine alone (issue 12): at least this many events/s on the 90-minute script, at a cost per
# event that does not grow with the steps done. Both scripts have one event every 17 s of the
# massage (300 in the 90-minute one's first 85 minutes), the same mix, so 90 against 10 minutes
# compares a long history with a short one and nothing else.
ENGINE_GOAL = 10_000.0
ENGINE_ROUNDS = 9
EVENTS_PER_MINUTE = 300 / 85


def engine_scripts(minutes: int, count: int) -> list[tuple[Plan, list[Event]]]:
    """`count` sessions of `minutes` (seeds 1..count), each with its own script of events."""
    plan = make_plan(PlanRequest(minutes=minutes))
    span = minutes * 60 * 85 / 90
    events = round(span / 60 * EVENTS_PER_MINUTE)
    return [(plan, scripted_events(events, span, seed=seed)) for seed in range(1, count + 1)]


def engine_seconds_per_event(scripts: list[tuple[Plan, list[Event]]]) -> float:
    """Replay every script (engine made, every event applied); seconds per event.

    The engine only computes, so its own CPU time is what counts: on a busy machine the time
    waited for a core would otherwise land on whichever side was unlucky."""
    start = time.process_time()
    for plan, events in scripts:
        SessionEngine.replay(plan, events)
    return (time.process_time() - start) / sum(len(events) for _plan, events in scripts)


def engine_calls_per_event(scripts: list[tuple[Plan, list[Event]]]) -> float:
    """Python function calls per event (cProfile's count) replaying the scripts once: unlike
    time, it does not depend on how busy the machine is, and shows what grows with the steps."""
    profile = cProfile.Profile()
    profile.enable()
    for plan, events in scripts:
        SessionEngine.replay(plan, events)
    profile.disable()
    calls: int = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
    return calls / sum(len(events) for _plan, events in scripts)


def engine_alone_figures() -> dict[str, float]:
    """events/s on the 10- and 90-minute scripts and the per-event cost ratio 90/10, from
    alternating rounds (median of each round's own ratio, so a busy moment weighs on both)."""
    short = engine_scripts(10, 9)  # about 300 events, like one 90-minute script
    long = engine_scripts(90, 1)
    short_costs: list[float] = []
    long_costs: list[float] = []
    ratios: list[float] = []
    for _ in range(ENGINE_ROUNDS):
        short_costs.append(engine_seconds_per_event(short))
        long_costs.append(engine_seconds_per_event(long))
        ratios.append(long_costs[-1] / short_costs[-1])
    long_rate = 1 / statistics.median(long_costs)
    return {
        "10": 1 / statistics.median(short_costs),
        "90": long_rate,
        "ratio": statistics.median(ratios),
        "goal": long_rate / ENGINE_GOAL,
        "calls 10": engine_calls_per_event(short),
        "calls 90": engine_calls_per_event(long),
    }


# The instructions per event (callgrind): each script set replayed this many times in a process
# of its own, against a process that replays nothing, all after a replay of every script (the
# caches and first uses counted in neither).
INSTRUCTION_ROUNDS = 2


def replay_for_count(which: str) -> None:
    """The work counted by `engine_instructions`: every script once, then `which` scripts'
    replays INSTRUCTION_ROUNDS times ("none": nothing more)."""
    sets = {"10": engine_scripts(10, 9), "90": engine_scripts(90, 1), "none": []}
    for plan, events in sets["10"] + sets["90"]:
        SessionEngine.replay(plan, events)
    for _ in range(INSTRUCTION_ROUNDS if which != "none" else 0):
        for plan, events in sets[which]:
            SessionEngine.replay(plan, events)


def engine_instructions() -> dict[str, float] | None:
    """Instructions per event on the 10- and 90-minute scripts, and their ratio; None
    without valgrind. The three processes run side by side (the count is the same)."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    environment = {**os.environ, "PYTHONHASHSEED": "0"}

    def count(which: str) -> int | None:
        done = subprocess.run(
            [
                valgrind,
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                __file__,
                "--replay-for-count",
                which,
            ],
            capture_output=True,
            text=True,
            env=environment,
            check=False,
        )
        found = re.search(r"Collected : (\d+)", done.stderr)
        return int(found.group(1)) if done.returncode == 0 and found else None

    with ThreadPoolExecutor(max_workers=3) as pool:
        none, short, long = pool.map(count, ["none", "10", "90"])
    if none is None or short is None or long is None:
        return None
    events = {
        which: sum(len(events) for _plan, events in engine_scripts(minutes, sessions))
        for which, minutes, sessions in (("10", 10, 9), ("90", 90, 1))
    }
    figures = {
        "10": (short - none) / (INSTRUCTION_ROUNDS * events["10"]),
        "90": (long - none) / (INSTRUCTION_ROUNDS * events["90"]),
    }
    figures["ratio"] = figures["90"] / figures["10"]
    return figures


def print_instructions() -> None:
    figures = engine_instructions()
    if figures is None:
        print("  instructions: valgrind is not installed (or failed)")
        return
    print(
        f"  engine alone, instructions per event (callgrind): {figures['10']:,.0f} on the "
        f"10-minute script, {figures['90']:,.0f} on the 90-minute one "
        f"(ratio {figures['ratio']:.2f}, goal about 1)"
    )


# Steps done, apart from what is still planned: the same 90-minute sessions, the events of
# their 5th-15th minutes against those of their 75th-85th (a long history, a short queue left).
EARLY = (5 * 60, 15 * 60)
LATE = (75 * 60, 85 * 60)


def engine_by_steps_done(count: int, rounds: int) -> dict[str, float]:
    """CPU seconds and function calls per event in the early and the late window of `count`
    90-minute scripts (every event applied; only the windows' own events measured)."""
    scripts = engine_scripts(90, count)
    seconds: dict[str, list[float]] = {"early": [0.0] * rounds, "late": [0.0] * rounds}
    profiles = {"early": cProfile.Profile(), "late": cProfile.Profile()}
    counted = {"early": 0, "late": 0}
    for index in range(rounds + 1):  # the last round counts function calls, untimed
        for plan, events in scripts:
            engine = SessionEngine(plan)
            for event in events:
                window = _window(event.at)
                if window is None:
                    engine.apply(event)
                elif index < rounds:
                    start = time.process_time()
                    engine.apply(event)
                    seconds[window][index] += time.process_time() - start
                else:
                    counted[window] += 1
                    profiles[window].enable()
                    engine.apply(event)
                    profiles[window].disable()
    figures: dict[str, float] = {}
    for window in ("early", "late"):
        events = counted[window]
        figures[window] = statistics.median(seconds[window]) / events
        calls: int = pstats.Stats(profiles[window]).total_calls  # type: ignore[attr-defined]
        figures[f"calls {window}"] = calls / events
    figures["ratio"] = figures["late"] / figures["early"]
    return figures


def _window(at: float) -> str | None:
    if EARLY[0] <= at < EARLY[1]:
        return "early"
    if LATE[0] <= at < LATE[1]:
        return "late"
    return None


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


def plan_from_history_seconds(sessions: int, repeats: int) -> list[float]:
    """A saved receiver's next plan: their newest sessions read, replayed into digests and
    learned from (what the web start page and `backrub plan --receiver` do)."""
    from backrub.store.history import receiver_history

    plan = make_plan(PlanRequest(minutes=60))
    with (
        tempfile.TemporaryDirectory() as folder,
        Store.open(f"sqlite:///{Path(folder) / 'bench.sqlite3'}") as store,
    ):
        profile_id = store.create_profile("Sam", {})
        for number in range(sessions):
            # 200 words and a save point every 10 s, as the live guides write them.
            ticks = [Event(at=float(at), kind=EventKind.TICK) for at in range(10, 3500, 10)]
            events = sorted(
                scripted_events(200, 58 * 60, seed=10 + number) + ticks, key=lambda e: e.at
            )
            session_id = store.start_session(plan.to_json(), profile_id)
            engine = SessionEngine(plan)
            for event in events:
                if engine.status.is_over:
                    break
                engine.apply(event)
                store.append_event(session_id, event)
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            make_plan(PlanRequest(minutes=60), history=receiver_history(store, profile_id))
            samples.append(time.perf_counter() - start)
    return samples


# The durable log against SQLite itself: the same row committed by plain sqlite3 (same pragmas,
# a file in the same folder), measured in alternating rounds so a busy disk weighs on all alike.
DURABLE_ROUNDS = 5
DURABLE_PER_ROUND = 100
DURABLE_TURN = 10  # commits in a row before the other side's turn
RAW_SESSION = uuid.uuid4().hex
RAW_TABLE = (
    "CREATE TABLE events (id INTEGER PRIMARY KEY, session_id VARCHAR(32) NOT NULL,"
    " seq INTEGER NOT NULL, at FLOAT NOT NULL, kind VARCHAR(32) NOT NULL, region VARCHAR(100),"
    " value INTEGER, recorded_at DATETIME NOT NULL, UNIQUE (session_id, seq))"
)
RAW_INSERT = (
    "INSERT INTO events (session_id, seq, at, kind, region, value, recorded_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def raw_sqlite_commits(connection: sqlite3.Connection, events: list[Event], first: int) -> float:
    """Seconds to commit these events one transaction each with plain sqlite3: the floor."""
    session_id = RAW_SESSION
    start = time.perf_counter()
    for seq, event in enumerate(events, first):
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            RAW_INSERT,
            (
                session_id,
                seq,
                event.at,
                event.kind.value,
                event.region,
                event.value,
                datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
            ),
        )
        connection.execute("COMMIT")
    return time.perf_counter() - start


def durable_log_figures() -> dict[str, float]:
    """events/s of the durable log alone (`Store.append_event`, committed per event), of the
    guide's path (engine check, append, engine apply), of raw sqlite3 commits of the same row,
    and the ratio log/raw (median of the rounds' own ratios; the goal is at least 0.5)."""
    plan = make_plan(PlanRequest(minutes=90))
    events = scripted_events(DURABLE_ROUNDS * DURABLE_PER_ROUND, 85 * 60, seed=3)
    raw_rates: list[float] = []
    store_rates: list[float] = []
    engine_rates: list[float] = []
    ratios: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        raw = sqlite3.connect(Path(folder) / "raw.sqlite3", isolation_level=None)
        for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=FULL"):
            raw.execute(f"PRAGMA {pragma}")
        raw.execute(RAW_TABLE)
        with Store.open(f"sqlite:///{Path(folder) / 'log.sqlite3'}") as store:
            alone = store.start_session(plan.to_json())
            guided = store.start_session(plan.to_json())
            engine = SessionEngine(plan)
            seq_alone = seq_guided = 0
            for number in range(DURABLE_ROUNDS):
                block = events[number * DURABLE_PER_ROUND : (number + 1) * DURABLE_PER_ROUND]
                # Raw and log take turns every few commits, so a burst of disk work from
                # elsewhere weighs on both alike.
                raw_seconds = store_seconds = 0.0
                for first in range(0, len(block), DURABLE_TURN):
                    turn = block[first : first + DURABLE_TURN]
                    raw_seconds += raw_sqlite_commits(
                        raw, turn, number * DURABLE_PER_ROUND + first + 1
                    )
                    start = time.perf_counter()
                    for event in turn:
                        seq_alone = store.append_event(alone, event, after=seq_alone)
                    store_seconds += time.perf_counter() - start
                start = time.perf_counter()
                for event in block:
                    engine.check(event)
                    seq_guided = store.append_event(guided, event, after=seq_guided)
                    engine.apply(event)
                engine_seconds = time.perf_counter() - start
                raw_rates.append(len(block) / raw_seconds)
                store_rates.append(len(block) / store_seconds)
                engine_rates.append(len(block) / engine_seconds)
                ratios.append(raw_seconds / store_seconds)
        raw.close()
    return {
        "raw": statistics.median(raw_rates),
        "store": statistics.median(store_rates),
        "engine": statistics.median(engine_rates),
        "ratio": statistics.median(ratios),
    }


def main() -> None:
    print("backrub session benchmark")
    logged, engine_only = events_per_second_with_log(300)
    print(f"  events/s through the engine with the SQLite log (commit per event): {logged:,.0f}")
    print(f"  events/s through the engine alone: {engine_only:,.0f}")
    durable = durable_log_figures()
    print(
        f"  durable log (SQLite, WAL, synchronous=FULL, one commit per event): "
        f"{durable['store']:,.0f} events/s alone, {durable['engine']:,.0f} with the engine; "
        f"raw sqlite3 commits of the same row: {durable['raw']:,.0f}/s; "
        f"ratio log/raw {durable['ratio']:.2f} (goal >= 0.50, rounds side by side)"
    )
    samples = plan_and_replay_seconds(5)
    print(
        f"  plan + replay of a 60-minute session with 200 events: "
        f"{statistics.median(samples) * 1000:.0f} ms median, {max(samples) * 1000:.0f} ms worst"
    )
    first, *again = plan_from_history_seconds(5, 4)
    print(
        "  plan for a saved receiver learning from five 60-minute sessions (about 550 events "
        f"each): {first * 1000:.0f} ms the first time (replays), "
        f"{statistics.median(again) * 1000:.0f} ms median after (digests kept)"
    )
    engine = engine_alone_figures()
    print(
        f"  engine alone, events/s: {engine['10']:,.0f} on the 10-minute script, "
        f"{engine['90']:,.0f} on the 90-minute one ({engine['goal']:.2f} of the "
        f"{ENGINE_GOAL:,.0f} goal); cost per event 90/10 minutes: {engine['ratio']:.2f} "
        "(goal about 1)"
    )
    print(
        f"  engine alone, function calls per event: {engine['calls 10']:.0f} on the 10-minute "
        f"script, {engine['calls 90']:.0f} on the 90-minute one "
        f"(ratio {engine['calls 90'] / engine['calls 10']:.2f})"
    )
    done = engine_by_steps_done(10, 5)
    print(
        "  engine alone, by steps done (the same ten 90-minute sessions): "
        f"{done['early'] * 1e6:.0f} us per event in minutes 5-15, {done['late'] * 1e6:.0f} us "
        f"in minutes 75-85 (ratio {done['ratio']:.2f}); function calls per event "
        f"{done['calls early']:.0f} and {done['calls late']:.0f}"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--replay-for-count"]:
        replay_for_count(sys.argv[2])
    elif "--instructions" in sys.argv[1:]:
        print("backrub session benchmark, instructions")
        print_instructions()
    else:
        main()
