"""The next plan learns from past sessions (planner.history, session.digest): starting pressures,
knots that come back, regions painful or ticklish twice, and a note for every change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backrub.atlas import Atlas, Tissue, default_atlas
from backrub.errors import PlanningError
from backrub.method.vocabulary import PhaseKind, PressureLevel, Technique
from backrub.planner import Order, Plan, PlanRequest, PlanStatus, make_plan
from backrub.planner.history import (
    Feedback,
    KnotOutcome,
    SessionDigest,
    knot_trends,
    learn,
)
from backrub.safety import SafetyContext, judge_plan
from backrub.safety.screening import (
    LocalProblem,
    LocalProblemKind,
    Outcome,
    ScreeningAnswers,
    screening_questions,
)
from backrub.session import Event, EventKind
from backrub.session.digest import digest_session

ATLAS = default_atlas()
MUSCLES = sorted(r.id for r in ATLAS.regions if r.tissue is Tissue.MUSCLE)
CHANGES = sorted(q.id for q in screening_questions() if q.outcome is Outcome.GO_WITH_CHANGES)
TRAPS_LEFT = "Top ridge of the trapezius (shrug muscle) (left)"
TRAPS_RIGHT = "Top ridge of the trapezius (shrug muscle) (right)"
RIBS_LEFT = "Small breathing muscles between the ribs (left)"
LATS_LEFT = "Latissimus dorsi (twists and side-bends the trunk) (left)"
BETWEEN_LEFT = "Between the spine and the shoulder blade (left)"
OLDEST, MIDDLE, NEWEST = ("1111aaaa" + "0" * 24, "2222bbbb" + "0" * 24, "3333cccc" + "0" * 24)


def said(
    region: str,
    kind: str,
    pressure: int,
    value: int | None = None,
    *,
    at: float = 500.0,
    phase: str = "upper-back",
    technique: str = "kneading",
) -> Feedback:
    return Feedback(
        region=region,
        kind=kind,
        at=at,
        pressure=pressure,
        phase=phase,
        technique=technique,
        value=value,
    )


def three_sessions() -> list[SessionDigest]:
    """A receiver's last three sessions, a week apart (given in no particular order)."""
    oldest = SessionDigest(
        OLDEST,
        datetime(2026, 11, 1, 18, 0, tzinfo=UTC),
        feedback=(
            said("upper-trapezius-left", "more", 3),  # wanted 4
            said("upper-trapezius-right", "felt", 3, 4),  # in the band: 3
            said("intercostal-left", "ticklish", 2, technique="circles"),  # L1: try 3
            said("latissimus-left", "pain", 3, phase="lower-back"),  # two lighter: 1
        ),
        knots=(KnotOutcome("middle-trapezius-left", "released", 90.0),),
    )
    middle = SessionDigest(
        MIDDLE,
        datetime(2026, 11, 8, 18, 0, tzinfo=UTC),
        feedback=(
            said("upper-trapezius-left", "felt", 3, 2),  # below the band: 4
            said("upper-trapezius-right", "less", 3),  # 2
            said("intercostal-left", "ticklish", 3, at=700, technique="circles"),  # 4
            # A second tickle there means "move on", not "firmer": it teaches no pressure.
            said("intercostal-left", "ticklish", 4, at=710, technique="circles"),
            said("latissimus-left", "pain", 2, phase="lower-back"),  # 1 (not below feather)
            # Work in the warm-up and on a knot teaches nothing about the relaxing pressure.
            said("upper-trapezius-left", "more", 2, at=100, phase="opening"),
            Feedback(
                region="middle-trapezius-left",
                kind="more",
                at=650,
                pressure=4,
                phase="upper-back",
                technique="static-pressure",
                knot=True,
            ),
        ),
        knots=(KnotOutcome("middle-trapezius-left", "bounded", 120.0),),
    )
    newest = SessionDigest(
        NEWEST,
        datetime(2026, 11, 15, 18, 0, tzinfo=UTC),
        feedback=(
            said("upper-trapezius-left", "felt", 4, 5),  # in the band: 4
            said("upper-trapezius-right", "felt", 3, 9),  # too much: 2
        ),
        knots=(
            KnotOutcome("middle-trapezius-left", "released", 60.0),
            KnotOutcome("paraspinal-lower-right", "released", 40.0),  # only once: not recurring
        ),
    )
    return [middle, newest, oldest]


def pressure_of(plan: Plan, step_id: str) -> int:
    return int(next(step.pressure for step in plan.steps if step.id == step_id))


def ids_in(plan: Plan, phase: PhaseKind) -> list[str]:
    return [step.id for step in plan.steps if step.phase is phase]


def test_three_sessions_give_the_expected_starting_pressures() -> None:
    lessons = learn(three_sessions(), ATLAS)
    # Newest first, each older session counting half: (4 + 4/2 + 4/4) / 1.75 = 4;
    # (2 + 2/2 + 3/4) / 1.75 = 2.14 -> 2; (4/2 + 3/4) / 0.75 = 3.67 -> 4; 1 and 1 -> 1.
    assert lessons.levels == {
        "upper-trapezius-left": 4,
        "upper-trapezius-right": 2,
        "intercostal-left": 4,
        "latissimus-left": 1,
    }
    assert lessons.start["upper-trapezius-right"].landings == (
        ("3333cccc", 2),
        ("2222bbbb", 2),
        ("1111aaaa", 3),
    )
    assert [(r.region, r.sessions) for r in lessons.recurring_knots] == [
        ("middle-trapezius-left", ("3333cccc", "2222bbbb", "1111aaaa"))
    ]
    assert [(r.region, r.times) for r in lessons.painful] == [("latissimus-left", 2)]
    assert [(r.region, r.times) for r in lessons.ticklish] == [("intercostal-left", 3)]


def test_three_sessions_shape_the_next_plan_within_the_rules() -> None:
    request = PlanRequest(minutes=30)
    plain = make_plan(request)
    plan = make_plan(request, history=three_sessions())
    assert judge_plan(plan, SafetyContext(atlas=ATLAS)) == []
    assert plan.total_seconds == pytest.approx(1800, rel=0.02)
    # Learned starting pressures, where they differ from the preference's 3 (moderate).
    assert pressure_of(plain, "upper-back.knead-traps.left") == 3
    assert pressure_of(plan, "upper-back.knead-traps.left") == 4
    assert pressure_of(plan, "upper-back.knead-traps.right") == 2
    # The ribs landed at 4, but the small breathing muscles are capped at moderate (U2).
    assert pressure_of(plain, "upper-back.ribs.left") == 2
    assert pressure_of(plan, "upper-back.ribs.left") == 3
    assert pressure_of(plan, "lower-back.latissimus.left") == 1
    # The warm-up and the closing stay as they were.
    for step_id in ("opening.whole-back", "closing.compressions", "closing.sweeps"):
        assert pressure_of(plan, step_id) == pressure_of(plain, step_id)
    # The knot that came back: its area first, its ladder right after the routine's step there.
    assert [p for p in dict.fromkeys(s.phase for s in plan.steps)] == [
        PhaseKind.OPENING,
        PhaseKind.UPPER_BACK,
        PhaseKind.NECK,
        PhaseKind.LOWER_BACK,
        PhaseKind.CLOSING,
    ]
    upper = ids_in(plan, PhaseKind.UPPER_BACK)
    assert upper.index("knot.middle-trapezius-left.rung-1") == 4
    # Ticklish three times: the ribs, both sides, come last in the upper back (L1).
    assert upper[-2:] == ["upper-back.ribs.left", "upper-back.ribs.right"]
    # Painful twice and already as light as it goes: the latissimus pair last in the lower back.
    assert ids_in(plan, PhaseKind.LOWER_BACK)[-2:] == [
        "lower-back.latissimus.left",
        "lower-back.latissimus.right",
    ]
    history_notes = [note for note in plan.notes if note not in plain.notes]
    assert history_notes == [
        f"Trouble spot {BETWEEN_LEFT}: extra work there, the same time on the other side.",
        f"{RIBS_LEFT} starts at 3 (moderate), not 2 (light): the closest the rules allow "
        "there to 4, where the pressure landed in the receiver's band "
        "(2222bbbb: 4, 1111aaaa: 3; newest counts most).",
        f"{LATS_LEFT} starts at 1 (feather), not 3 (moderate): where the pressure landed in "
        "the receiver's band (2222bbbb: 1, 1111aaaa: 1; newest counts most).",
        f"{TRAPS_LEFT} starts at 4 (firm), not 3 (moderate): where the pressure landed in "
        "the receiver's band (3333cccc: 4, 2222bbbb: 4, 1111aaaa: 4; newest counts most).",
        f"{TRAPS_RIGHT} starts at 2 (light), not 3 (moderate): where the pressure landed in "
        "the receiver's band (3333cccc: 2, 2222bbbb: 2, 1111aaaa: 3; newest counts most).",
        f"{LATS_LEFT} left for later in its area: painful 2 times before "
        "(sessions 2222bbbb, 1111aaaa), and already as light as it goes.",
        f"{RIBS_LEFT} left for later in its area: ticklish 3 times before "
        "(sessions 2222bbbb, 1111aaaa); it comes once the rest has relaxed (L1).",
        f"A knot came back on {BETWEEN_LEFT} (sessions 3333cccc, 2222bbbb, 1111aaaa): extra "
        "work there, its area first and the work early in it (problem-first for that spot).",
    ]


def test_painful_twice_goes_one_level_lighter_where_it_can() -> None:
    sessions = [
        SessionDigest(
            f"{n}" * 32,
            datetime(2026, 11, n, tzinfo=UTC),
            feedback=(said("teres-right", "pain", 5, at=300),),
        )
        for n in (1, 2)
    ]
    # Pain at 5 teaches 3, which is where teres already is: only "lighter" changes it.
    plan = make_plan(PlanRequest(minutes=30), history=sessions)
    assert pressure_of(plan, "upper-back.teres.right") == 2
    assert pressure_of(plan, "upper-back.teres.left") == 3
    assert [n for n in plan.notes if "painful" in n] == [
        f"{ATLAS.region('teres-right').name} one level lighter: painful 2 times before "
        "(sessions 22222222, 11111111)."
    ]
    assert not any("starts at" in n for n in plan.notes)


def test_knots_that_came_back_give_way_when_there_is_no_room_for_them() -> None:
    spots = ["middle-trapezius-left", "latissimus-left", "neck-left", "teres-left", "teres-right"]
    sessions = [
        SessionDigest(
            f"{day}" * 32,
            datetime(2026, 11, day, tzinfo=UTC),
            knots=tuple(KnotOutcome(spot, "bounded", 120.0) for spot in spots),
        )
        for day in (1, 2)
    ]
    request = PlanRequest(minutes=6)
    with pytest.raises(PlanningError):
        make_plan(request.model_copy(update={"trouble_spots": tuple(spots)}))
    plan = make_plan(request, history=sessions)
    assert judge_plan(plan, SafetyContext(atlas=ATLAS)) == []
    assert "No room in 6 minutes for extra work on the knots that came back." in plan.notes
    assert not any("came back on" in note for note in plan.notes)
    assert not any(step.knot for step in plan.steps)


def test_no_history_changes_nothing() -> None:
    request = PlanRequest(minutes=20, trouble_spots=("teres-left",), order=Order.PROBLEM_FIRST)
    assert make_plan(request, history=[]) == make_plan(request)
    quiet = SessionDigest("f" * 32, datetime(2026, 11, 1, tzinfo=UTC))
    assert make_plan(request, history=[quiet]) == make_plan(request)


def test_a_region_screening_takes_out_gets_no_history_note() -> None:
    request = PlanRequest(
        minutes=30,
        screening=ScreeningAnswers(
            local=(LocalProblem(region="upper-trapezius-left", kind=LocalProblemKind.BRUISE),)
        ),
    )
    plan = make_plan(request, history=three_sessions())
    assert not any(TRAPS_LEFT in note and "starts at" in note for note in plan.notes)
    assert not any("upper-trapezius-left" in step.regions for step in plan.steps)


def test_knot_trends_compare_the_last_two_times() -> None:
    def session(day: int, *knots: KnotOutcome) -> SessionDigest:
        return SessionDigest(f"{day:02d}" * 16, datetime(2026, 11, day, tzinfo=UTC), knots=knots)

    history = [
        session(1, KnotOutcome("teres-left", "released", 100.0)),
        session(
            2, KnotOutcome("teres-left", "released", 80.0), KnotOutcome("neck-left", "gentle", 60.0)
        ),
        session(
            3,
            KnotOutcome("teres-left", "bounded", 120.0),
            KnotOutcome("teres-left", "released", 45.0),
        ),
        session(
            4,
            KnotOutcome("neck-left", "gentle", 60.0),
            KnotOutcome("latissimus-right", "released", 50.0),
        ),
        session(5, KnotOutcome("latissimus-right", "released", 55.0)),
    ]
    trends = {t.region: t for t in knot_trends(history, ATLAS)}
    assert set(trends) == {"teres-left", "neck-left", "latissimus-right"}
    # 45 s (its quickest release that day) against 80 s: faster.
    assert trends["teres-left"].trend == "faster"
    assert trends["teres-left"].entries[0] == ("03" * 16, "released", 45.0)
    assert trends["latissimus-right"].trend == "same"  # 55 s against 50 s
    assert trends["neck-left"].trend == "not released"
    slower = [
        session(1, KnotOutcome("teres-left", "released", 40.0)),
        session(2, KnotOutcome("teres-left", "released", 90.0)),
    ]
    assert knot_trends(slower, ATLAS)[0].trend == "slower"
    now = [
        session(1, KnotOutcome("teres-left", "bounded", 120.0)),
        session(2, KnotOutcome("teres-left", "released", 90.0)),
    ]
    assert knot_trends(now, ATLAS)[0].trend == "released now"


def test_a_replayed_session_records_where_and_how_firm_each_word_fell(atlas: Atlas) -> None:
    plan = make_plan(PlanRequest(minutes=20))
    starts = dict(zip((s.id for s in plan.steps), plan.starts(), strict=True))
    traps = starts["upper-back.knead-traps.left"] + 5
    warm_up = starts["opening.whole-back"] + 5
    events = [
        Event(at=warm_up, kind=EventKind.FELT, value=4),
        Event(at=traps - 2, kind=EventKind.TICK),
        Event(at=traps, kind=EventKind.MORE),
        Event(at=traps + 5, kind=EventKind.KNOT, region="upper-trapezius-left"),
        Event(at=traps + 30, kind=EventKind.RELEASED),
        Event(at=traps + 200, kind=EventKind.STOP),
    ]
    digest = digest_session(plan, events, session_id="a" * 32, started_at=datetime.now(UTC))
    whole_back = next(s for s in plan.steps if s.id == "opening.whole-back")
    assert [f.region for f in digest.feedback[: len(whole_back.regions)]] == list(
        whole_back.regions
    )
    assert {(f.kind, f.phase, f.value) for f in digest.feedback[:-1]} == {("felt", "opening", 4)}
    assert digest.feedback[-1] == Feedback(
        region="upper-trapezius-left",
        kind="more",
        at=traps,
        pressure=3,
        phase="upper-back",
        technique="kneading",
        knot=False,
        value=None,
        band=(3, 5),
    )
    assert [(k.region, k.outcome) for k in digest.knots] == [("upper-trapezius-left", "released")]


# ------------------------------------------------------------------------------ properties

feedback = st.builds(
    Feedback,
    region=st.sampled_from(MUSCLES),
    kind=st.sampled_from(["more", "less", "felt", "pain", "ticklish"]),
    at=st.floats(0, 3600),
    pressure=st.integers(1, 5),
    phase=st.sampled_from([kind.value for kind in PhaseKind]),
    technique=st.sampled_from([t.value for t in Technique]),
    knot=st.booleans(),
    value=st.integers(0, 10),
)
knots = st.builds(
    KnotOutcome,
    region=st.sampled_from(MUSCLES),
    outcome=st.sampled_from(["released", "bounded", "interrupted", "gentle", "noted"]),
    seconds=st.floats(0, 130),
)
histories = st.lists(
    st.builds(
        SessionDigest,
        session_id=st.text("0123456789abcdef", min_size=32, max_size=32),
        started_at=st.datetimes(
            min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
        ),
        feedback=st.lists(feedback, max_size=12).map(tuple),
        knots=st.lists(knots, max_size=3).map(tuple),
    ),
    max_size=5,
)
requests = st.builds(
    PlanRequest,
    minutes=st.integers(10, 120).map(lambda half_minutes: half_minutes / 2),
    trouble_spots=st.lists(st.sampled_from(MUSCLES), max_size=2).map(tuple),
    sore_spots=st.lists(st.sampled_from(MUSCLES), max_size=2).map(tuple),
    pressure=st.sampled_from(list(PressureLevel)),
    order=st.sampled_from(list(Order)),
    screening=st.builds(
        ScreeningAnswers,
        yes=st.frozensets(st.sampled_from(CHANGES), max_size=2),
        local=st.lists(
            st.builds(
                LocalProblem,
                region=st.sampled_from(MUSCLES),
                kind=st.sampled_from(list(LocalProblemKind)),
            ),
            max_size=2,
        ).map(tuple),
    ),
    routine=st.sampled_from(["classic", "neck-and-shoulders"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests, histories)
def test_plans_that_learn_keep_every_rule_and_the_budget(
    request: PlanRequest, history: list[SessionDigest]
) -> None:
    try:
        plain = make_plan(request)
    except PlanningError:
        return  # too short without history already: history never makes that worse
    plan = make_plan(request, history=history)
    assert plan.status is PlanStatus.READY
    assert judge_plan(plan, SafetyContext(atlas=ATLAS)) == []
    budget = request.minutes * 60
    assert abs(plan.total_seconds - budget) <= 0.02 * budget
    assert plan.steps[0].phase is PhaseKind.OPENING
    assert plan.steps[-1].technique is Technique.SWEEP
    cap = plan.restrictions.max_pressure
    assert cap is None or max(step.pressure for step in plan.steps) <= cap
    excluded = set(plan.restrictions.excluded_regions)
    assert not any(set(step.regions) & excluded for step in plan.steps)
    # The notes the plan had without history are all still there, in the same order.
    assert [n for n in plan.notes if n in plain.notes] == list(plain.notes)
    assert make_plan(request, history=list(reversed(history))) == plan
