"""Fingerprints of many live sessions: the engine's whole state hashed after every event.

A change meant to make the engine faster without changing what it does is checked by running
this on the old code and on the new, and comparing the two files (they must be identical):

    python bench/session_fingerprint.py --sessions 1000 --out new.txt
    PYTHONPATH=<old checkout>/src python bench/session_fingerprint.py --sessions 1000 --out old.txt
    cmp old.txt new.txt

Each line is one session: its name, how many events it took, and a hash of everything it held
after each event and each refresh of the clock (status, clocks, the current step, the queue with
its seconds, the timeline, reactions, cues, knots, notes, what was left out and why, the side
totals the balance keeps), what a front end shows (`view_of`) and, at the end, the summary
stored with the session. The sessions are the bench's own scripts (`bench_session.py`) and
random ones from a seeded generator: random plans (length, trouble spots, pressure, order,
routine) and random scripts of every kind of event, mostly the ones that re-plan.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_session import engine_scripts, scripted_events

from backrub.atlas import Tissue, default_atlas
from backrub.errors import PlanningError
from backrub.method.vocabulary import PressureLevel
from backrub.planner import Order, Plan, PlanRequest, PlanStatus, make_plan
from backrub.session import Event, EventKind, SessionEngine, SessionOver
from backrub.session.state import SessionStatus
from backrub.session.summary import summarize
from backrub.session.view import view_of

ATLAS = default_atlas()
MUSCLES = sorted(r.id for r in ATLAS.regions if r.tissue is Tissue.MUSCLE)
EVERY_REGION = sorted(r.id for r in ATLAS.regions)
MINUTES = [5, 8, 10, 12, 20, 30, 45, 60, 75, 90]
# Every kind people send, the ones that re-plan (knots, tickles, skips, time moved around)
# drawn more often; a stop now and then.
KINDS = [kind for kind in EventKind if kind not in (EventKind.STOP, EventKind.END)]
KINDS += [EventKind.KNOT, EventKind.SKIP, EventKind.TICKLISH, EventKind.EXTEND, EventKind.BACK] * 2
KINDS += [EventKind.MORE, EventKind.LESS, EventKind.STILL_TIGHT, EventKind.PAIN]
# State lists that only grow: hashed by their new items (and their length) after each event.
GROWING = ("timeline", "reactions", "cues", "notes", "knots")


class Fingerprint:
    """A running hash of one engine's state, taken after each event."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.seen: dict[str, int] = {}

    def take(self, engine: SessionEngine) -> None:
        update = self.hash.update
        for name, value in vars(engine.state).items():
            if name in GROWING:
                start = self.seen.get(name, 0)
                update(f"{name}:{len(value)}:{value[start:]!r}".encode())
                self.seen[name] = len(value)
            elif isinstance(value, set):
                update(f"{name}:{sorted(value)!r}".encode())
            else:
                update(f"{name}:{value!r}".encode())
        update(repr(engine._owed()).encode())
        update(repr(view_of(engine)).encode())

    def close(self, engine: SessionEngine) -> str:
        self.take(engine)
        self.hash.update(json.dumps(summarize(engine), sort_keys=True, default=str).encode())
        return self.hash.hexdigest()[:20]


def run(plan: Plan, events: list[Event], chooser: random.Random | None = None) -> str:
    """Every event applied (and, with `chooser`, some refreshes of the clock between them),
    the state fingerprinted after each; then time runs out, as a live guide lets it."""
    print_ = Fingerprint()
    engine = SessionEngine(plan)
    print_.take(engine)
    for event in events:
        if chooser is not None and chooser.random() < 0.2 and event.at > engine.state.clock:
            engine.advance(chooser.uniform(engine.state.clock, event.at))
            print_.take(engine)
        try:
            engine.apply(event)
        except SessionOver:
            print_.hash.update(b"over")
            break
        print_.take(engine)
    if engine.status is SessionStatus.PAUSED:
        engine.apply(Event(at=engine.state.clock + 1, kind=EventKind.RESUME))
        print_.take(engine)
    engine.advance(engine.state.clock + engine.budget * 3)
    return print_.close(engine)


def random_session(seed: int) -> tuple[Plan, list[Event], random.Random] | None:
    """A random plan and a random script of events for it (None if no plan can be made)."""
    chooser = random.Random(seed)
    minutes = chooser.choice(MINUTES)
    request = PlanRequest(
        minutes=minutes,
        trouble_spots=tuple(chooser.sample(MUSCLES, chooser.randint(0, 2))),
        pressure=chooser.choice(list(PressureLevel)),
        order=chooser.choice(list(Order)),
        routine=chooser.choice(["classic", "neck-and-shoulders"]),
    )
    try:
        plan = make_plan(request)
    except PlanningError:
        return None
    if plan.status is not PlanStatus.READY:
        return None
    budget = minutes * 60
    count = chooser.randint(0, minutes * 4)
    times = sorted(
        round(chooser.uniform(0, budget * 1.2), chooser.choice([1, 3])) for _ in range(count)
    )
    events = []
    for at in times:
        kind = chooser.choice(KINDS + ([EventKind.STOP] if chooser.random() < 0.02 else []))
        region = None
        if kind in (EventKind.KNOT, EventKind.PAIN) and chooser.random() < 0.5:
            region = chooser.choice(MUSCLES if chooser.random() < 0.8 else EVERY_REGION)
        value = chooser.randint(0, 10) if kind is EventKind.FELT else None
        events.append(Event(at=at, kind=kind, region=region, value=value))
    return plan, events, chooser


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000, help="random sessions (seeds 0..)")
    parser.add_argument("--first", type=int, default=0, help="first seed")
    parser.add_argument("--out", type=Path, required=True, help="file to write")
    arguments = parser.parse_args()
    lines: list[str] = []
    events = 0
    bench = [
        (f"bench-{m}min-{i}", p, e)
        for m, c in ((10, 9), (90, 1))
        for i, (p, e) in enumerate(engine_scripts(m, c))
    ]
    bench.append(("bench-log", make_plan(PlanRequest(minutes=90)), scripted_events(300, 5100, 1)))
    for name, plan, script in bench:
        lines.append(f"{name} {len(script)} {run(plan, script)}")
        events += len(script)
    sessions = len(bench)
    for seed in range(arguments.first, arguments.first + arguments.sessions):
        drawn = random_session(seed)
        if drawn is None:
            lines.append(f"seed-{seed} no-plan")
            continue
        plan, script, chooser = drawn
        lines.append(f"seed-{seed} {len(script)} {run(plan, script, chooser)}")
        sessions += 1
        events += len(script)
    arguments.out.write_text("\n".join(lines) + "\n")
    print(f"{sessions} sessions, {events} events fingerprinted into {arguments.out}")


if __name__ == "__main__":
    main()
