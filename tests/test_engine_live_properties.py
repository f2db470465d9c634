"""Property tests of the live engine as a person meets it, state by state, and as a crash meets it.

- In every state the words on screen fit the step (its contact and technique), the elbow question
  is open only on the forearm rung, aftercare is mild and bounded, and a skip ends the step.
- A live engine advanced in small random steps, with save points as `LiveRun` writes them, is in
  the same state as a replay of its log: what a resumed session shows is what was shown.
"""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from backrub.atlas import default_atlas
from backrub.errors import PlanningError
from backrub.live import SAVE_EVERY
from backrub.method.routine import BUILT_IN_ROUTINES, built_in_routine
from backrub.method.step import Step
from backrub.method.vocabulary import Contact, PressureLevel, Technique
from backrub.method.words import contact_info, vocabulary
from backrub.planner import Order, Plan, PlanRequest, PlanStatus, make_plan
from backrub.safety.screening import LocalProblem, LocalProblemKind, ScreeningAnswers
from backrub.session import Event, EventKind, SessionEngine, SessionOver, SessionStatus
from backrub.session.ladder import AFTERCARE_SECONDS
from backrub.session.view import view_of

ATLAS = default_atlas()
REGIONS = sorted(r.id for r in ATLAS.regions)
MUSCLES = sorted(r.id for r in ATLAS.regions if r.tissue.value == "muscle")
# Screening answers that still allow a session, with changes.
WITH_CHANGES = ["bruises-easily", "frail-or-older", "asthma", "touch-sensitive", "blood-thinners"]
HANDS_ON = [k for k in EventKind if k not in (EventKind.STOP, EventKind.TICK, EventKind.RESUME)]
# Knot and ladder words come more often, so random sessions reach the elbow question.
WEIGHTED = [
    *HANDS_ON,
    *[EventKind.KNOT] * 3,
    *[EventKind.STILL_TIGHT] * 4,
    EventKind.ACCEPT_ELBOW,
    EventKind.DECLINE_ELBOW,
    EventKind.SKIP,
    EventKind.RESUME,
    *[EventKind.EXTEND, EventKind.BACK] * 2,
]


# ---------------------------------------------------------------------------- words fit the step

_ROUND = re.compile(r"^Round \d+: ")


def _written() -> dict[tuple[str, str], set[tuple[Contact, Technique]]]:
    """Every cue and how-to text a routine writes, with the contact and technique it is for."""
    found: dict[tuple[str, str], set[tuple[Contact, Technique]]] = {}
    for name in BUILT_IN_ROUTINES:
        data = built_in_routine(name).data
        specs: list[Any] = [spec for phase in data.phase for spec in phase.step]
        if data.knot_ladder is not None:
            specs += [*data.knot_ladder.rung, data.knot_ladder.aftercare]
        for spec in specs:
            found.setdefault((spec.cue, spec.how), set()).add((spec.contact, spec.technique))
    return found


WRITTEN = _written()
CONTACT_NAMES = {c: contact_info(c).name.lower() for c in Contact}


def words_fit(step: Step) -> str | None:
    """Why the step's cue or how-to text does not fit its contact and technique; None if it does.

    Words a routine wrote must have been written for this contact and technique; other words
    (made by the planner or the engine) must name no other contact than the step's own.
    """
    cue = _ROUND.sub("", step.cue)
    pair = (step.contact, step.technique)
    written = WRITTEN.get((cue, step.how))
    if written is not None:
        return None if pair in written else f"{step.id}: words written for {written}, is {pair}"
    text = f"{cue} {step.how}".lower()
    others = [
        name for contact, name in CONTACT_NAMES.items() if contact != step.contact and name in text
    ]
    if others:
        return f"{step.id} ({step.contact}) names {others}: {cue!r}"
    if CONTACT_NAMES[step.contact] not in text and cue.lower().startswith(
        tuple(info.name.lower() for info in vocabulary().technique.values())
    ):
        return f"{step.id}: plain words without its contact: {cue!r}"
    return None


# ---------------------------------------------------------------------------- random sessions

screenings = st.builds(
    ScreeningAnswers,
    yes=st.frozensets(st.sampled_from(WITH_CHANGES), max_size=2),
    local=st.lists(
        st.builds(
            LocalProblem,
            region=st.sampled_from(MUSCLES),
            kind=st.sampled_from(list(LocalProblemKind)),
        ),
        max_size=2,
    ).map(tuple),
)
requests = st.builds(
    PlanRequest,
    minutes=st.sampled_from([5, 8, 12, 20, 30]),
    trouble_spots=st.lists(st.sampled_from(MUSCLES), max_size=2).map(tuple),
    pressure=st.sampled_from(list(PressureLevel)),
    order=st.sampled_from(list(Order)),
    routine=st.sampled_from(["classic", "neck-and-shoulders"]),
    screening=st.one_of(st.just(ScreeningAnswers()), screenings),
)


LADDER = [
    EventKind.STILL_TIGHT,
    EventKind.STILL_TIGHT,
    EventKind.RELEASED,
    EventKind.ACCEPT_ELBOW,
    EventKind.DECLINE_ELBOW,
    EventKind.TICKLISH,
    EventKind.TICKLISH,
    EventKind.SKIP,
    EventKind.SKIP,
    EventKind.SKIP,
    EventKind.PAIN,
    EventKind.MORE,
    EventKind.FELT,
    EventKind.EXTEND,
    EventKind.BACK,
]


def one_event(draw: st.DrawFn, at: float, kinds: list[EventKind]) -> Event:
    kind = draw(st.sampled_from(kinds))
    region = None
    if kind in (EventKind.KNOT, EventKind.PAIN) and draw(st.booleans()):
        region = draw(st.sampled_from(REGIONS if kind is EventKind.KNOT else MUSCLES))
    value = draw(st.integers(0, 10)) if kind is EventKind.FELT else None
    return Event(at=at, kind=kind, region=region, value=value)


@st.composite
def events_for(draw: st.DrawFn, budget: float) -> list[Event]:
    """Events at random times, several often at the very same instant, and knots followed by a
    quick run of ladder words (so the elbow question and the aftercare are reached often)."""
    found: list[Event] = []
    # Often in the middle of the session, where knots are worked rather than noted.
    moments = st.one_of(st.floats(0, budget * 1.2), st.floats(budget * 0.3, budget * 0.7))
    starts = sorted(draw(st.lists(moments, max_size=12)))
    for start in starts:
        if found and start < found[-1].at:
            start = found[-1].at
        if draw(st.booleans()):
            # A knot here, then what the receiver says as the ladder runs.
            found.append(Event(at=start, kind=EventKind.KNOT))
            at = start
            for _ in range(draw(st.integers(1, 8))):
                at += draw(st.sampled_from([0.0, 0.0, 1.0, 4.0, 15.0, 40.0]))
                found.append(one_event(draw, at, LADDER))
        else:
            found.append(one_event(draw, start, WEIGHTED))
            while draw(st.integers(0, 3)) == 0:  # another at the very same instant
                found.append(one_event(draw, start, WEIGHTED))
    if draw(st.integers(0, 3)) == 0:
        found.append(Event(at=max([0.0, *(e.at for e in found)]), kind=EventKind.STOP))
    return found


def plan_for(request: PlanRequest) -> Plan:
    try:
        plan = make_plan(request)
    except PlanningError:
        assume(False)
        raise
    assume(plan.status is PlanStatus.READY)
    return plan


@st.composite
def sessions(draw: st.DrawFn) -> tuple[Plan, list[Event]]:
    plan = plan_for(draw(requests))
    return plan, draw(events_for(plan.budget_seconds))


def is_aftercare(step: Step | None) -> bool:
    return step is not None and step.id.startswith("knot-") and step.id.endswith(".aftercare")


def check_now(engine: SessionEngine) -> None:
    """What must hold in every state a front end can show."""
    state = engine.state
    current = state.current
    if current is not None:
        wrong = words_fit(current)
        assert wrong is None, wrong
        if is_aftercare(current):
            # Aftercare is mild: never above light, never longer than its own time (U9).
            assert current.pressure <= PressureLevel.LIGHT, current
            assert current.seconds <= AFTERCARE_SECONDS + 1e-6, current
    if view_of(engine).asking_elbow:
        assert current is not None and current.knot and current.contact is Contact.FOREARM
        assert not is_aftercare(current)


def check_skip(engine: SessionEngine, before: Step | None, event: Event, said: list[str]) -> None:
    """A skip while hands are on ends the step, or leaves at most a few seconds of it (C1).

    Only a skip in the closing is answered with the closing's words."""
    state = engine.state
    if before is None or event.kind is not EventKind.SKIP or state.status.is_over:
        return
    if "skip-closing" in said:
        assert before.phase.value == "closing", before.id
    current = state.current
    if current is None or current.id != before.id:
        return
    assert current.seconds - state.elapsed <= 5.0 + 1e-6, (before.id, current.seconds)


class AftercareWatch:
    """Sees every state in turn: a knot's aftercare runs once, never begun over (U9)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.last: tuple[str | None, float] = (None, 0.0)

    def see(self, engine: SessionEngine) -> None:
        check_now(engine)
        current, elapsed = engine.state.current, engine.state.elapsed
        if is_aftercare(current):
            assert current is not None
            if current.id != self.last[0]:
                assert current.id not in self.seen, f"{current.id} begun again"
                self.seen.add(current.id)
            else:
                assert elapsed >= self.last[1] - 1e-9, f"{current.id} started over"
        self.last = (current.id if current else None, elapsed)


def drive(plan: Plan, events: list[Event]) -> SessionEngine:
    engine = SessionEngine(plan)
    watch = AftercareWatch()
    watch.see(engine)
    for item in events:
        before = engine.state.current
        running = engine.status is SessionStatus.RUNNING
        try:
            engine.advance(item.at)
            if engine.state.current is not before:
                before = engine.state.current
            said = [cue.key for cue in engine.apply(item)]
        except SessionOver:
            break
        watch.see(engine)
        if running:
            check_skip(engine, before, item, said)
    for _ in range(2):
        if engine.status is SessionStatus.PAUSED:
            engine.apply(Event(at=engine.state.clock + 1, kind=EventKind.RESUME))
        clock = engine.state.clock
        while not engine.status.is_over and clock < engine.budget * 4:
            clock += 7.0
            engine.advance(clock)
            watch.see(engine)
    return engine


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(sessions())
def test_every_state_has_fitting_words_a_timely_elbow_question_and_mild_aftercare(
    session: tuple[Plan, list[Event]],
) -> None:
    plan, events = session
    engine = drive(plan, events)
    state = engine.state
    assert state.status.is_over
    # Per knot, aftercare is one mild stretch of at most its own time, whatever was pressed.
    aftercare: dict[str, float] = {}
    for segment in state.timeline:
        step = segment.step
        if is_aftercare(step):
            assert step.pressure <= PressureLevel.LIGHT, step
            knot = step.id.rsplit(".", 1)[0]
            aftercare[knot] = aftercare.get(knot, 0.0) + step.seconds
    for knot, seconds in aftercare.items():
        assert seconds <= AFTERCARE_SECONDS + 1e-6, (knot, seconds)


# ---------------------------------------------------------------------------- live against replay


def rounded(value: Any) -> Any:
    """State with floats to a millionth: time chopped differently may round differently."""
    if isinstance(value, float):
        return round(value, 6) + 0.0
    if isinstance(value, list | tuple):
        return type(value)(rounded(v) for v in value)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, set):
        return value
    if isinstance(value, Step):
        return rounded(value.model_dump())
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: rounded(getattr(value, f.name)) for f in fields(value)}
    return value


class Live:
    """A `LiveRun` without its store: the clock moves in steps, save points as it writes them."""

    def __init__(self, plan: Plan) -> None:
        self.engine = SessionEngine(plan)
        self.log: list[Event] = []
        self.last_save = 0.0

    def record(self, event: Event) -> None:
        try:
            self.engine.apply(event)
        except SessionOver:
            return
        self.log.append(event)
        self.last_save = event.at

    def time_passes(self, now: float) -> None:
        if self.engine.status.is_over:
            return
        before = self.engine.state.current
        self.engine.advance(now)
        if self.engine.status.is_over:
            return
        after = self.engine.state.current
        changed = (before.id if before else None) != (after.id if after else None)
        running = self.engine.status is SessionStatus.RUNNING
        if changed or (running and now - self.last_save >= SAVE_EVERY):
            self.record(Event(at=now, kind=EventKind.TICK))


@st.composite
def live_runs(draw: st.DrawFn) -> tuple[Plan, list[tuple[float, Event | None]]]:
    """A plan, and what happens: small waits (the page's refreshes), now and then an event."""
    plan = plan_for(draw(requests))
    actions: list[tuple[float, Event | None]] = []
    clock = 0.0
    for _ in range(draw(st.integers(1, 60))):
        clock += draw(st.sampled_from([0.0, 0.25, 0.7, 1.0, 3.3, 9.9, 10.0, 17.0, 31.0]))
        if draw(st.integers(0, 3)) == 0:
            kind = draw(st.sampled_from(WEIGHTED))
            region = (
                draw(st.sampled_from(MUSCLES))
                if kind in (EventKind.KNOT, EventKind.PAIN) and draw(st.booleans())
                else None
            )
            value = draw(st.integers(0, 10)) if kind is EventKind.FELT else None
            actions.append((clock, Event(at=clock, kind=kind, region=region, value=value)))
        else:
            actions.append((clock, None))
    return plan, actions


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(live_runs())
def test_a_live_engine_in_small_steps_matches_a_replay_of_its_log(
    run: tuple[Plan, list[tuple[float, Event | None]]],
) -> None:
    plan, actions = run
    live = Live(plan)
    for clock, item in actions:
        live.time_passes(clock)
        if item is not None:
            live.record(item)
        # A crash may come at any moment: what the log rebuilds is what the screen showed at
        # the last save, and the same clock from there shows the same as the live engine.
        replayed = SessionEngine.replay(plan, live.log)
        replayed.advance(live.engine.state.clock)
        assert rounded(replayed.state) == rounded(live.engine.state)
