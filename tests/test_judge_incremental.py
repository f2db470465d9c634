"""The live guide's step-by-step judge says exactly what judging the whole sequence says.

SequenceJudge keeps only what each rule needs of the steps done (issue 12); these properties
compare it, on random sessions and random changes of a step, with the plain definition: every
sequence rule run over the whole history with and without the new step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from backrub.atlas import default_atlas
from backrub.method.step import Step
from backrub.method.vocabulary import Contact, PhaseKind, PressureLevel, StepSide, Technique
from backrub.planner import Plan, PlanRequest, make_plan
from backrub.safety import RULES, Restrictions, SafetyContext, SequenceJudge, Violation, judge_step
from backrub.safety.rules import ClosingSequence, SidesBalanced
from tests.conftest import make_step

ATLAS = default_atlas()
# Few regions, so that knots resume on the same spot, sides add up and rubbing follows knots.
REGIONS = (
    ("upper-trapezius-left",),
    ("upper-trapezius-right",),
    ("middle-trapezius-right",),
    ("latissimus-left",),
    ("neck-left",),
)
AREAS_WARMED = (
    ("middle-trapezius-left", "middle-trapezius-right"),
    ("latissimus-left", "latissimus-right"),
    ("upper-trapezius-left", "upper-trapezius-right", "latissimus-left"),
)


def judged_in_full(step: Step, context: SafetyContext, history: Sequence[Step]) -> list[Violation]:
    """The plain definition: each rule's verdict on history + step, less its verdict on history."""
    context = replace(context, require_closing=False)
    found: list[Violation] = []
    for rule in RULES:
        if isinstance(rule, (SidesBalanced, ClosingSequence)):
            continue
        found.extend(rule.check_step(step, context))
        before = Counter(rule.check_sequence(history, context))
        for violation in rule.check_sequence([*history, step], context):
            if before[violation] > 0:
                before[violation] -= 1
            else:
                found.append(violation)
    return found


@st.composite
def steps(draw: st.DrawFn, index: int = 0) -> Step:
    kind = draw(st.sampled_from(["warm-up", "work", "knot", "rub", "elbow", "firm-trapezius"]))
    regions = draw(st.sampled_from(REGIONS))
    seconds = draw(st.sampled_from([5, 10, 20, 29, 30, 45, 60, 100, 200]))
    fields: dict[str, object] = {"regions": regions, "seconds": seconds, "side": StepSide.LEFT}
    if kind == "warm-up":
        fields.update(
            phase=PhaseKind.OPENING,
            regions=draw(st.sampled_from(AREAS_WARMED)),
            side=StepSide.BOTH,
            technique=Technique.PALM_COMPRESSION,
            contact=Contact.PALMS,
            pressure=PressureLevel.LIGHT,
            passes=draw(st.integers(1, 3)),
        )
    elif kind == "work":
        fields.update(pressure=draw(st.sampled_from(list(PressureLevel))))
    elif kind == "knot":
        fields.update(
            knot=True,
            technique=draw(st.sampled_from([Technique.STATIC_PRESSURE, Technique.MILD_RUBBING])),
            contact=draw(st.sampled_from([Contact.KNUCKLES, Contact.FOREARM, Contact.THUMBS])),
            pressure=draw(st.sampled_from([PressureLevel.MODERATE, PressureLevel.FIRM])),
        )
    elif kind == "rub":
        fields.update(
            technique=draw(st.sampled_from([Technique.MILD_RUBBING, Technique.KNEADING])),
            contact=Contact.PALMS,
            pressure=draw(st.sampled_from([PressureLevel.FEATHER, PressureLevel.LIGHT, 3])),
        )
    elif kind == "elbow":
        fields.update(
            knot=draw(st.booleans()),
            consent=draw(st.booleans()),
            technique=Technique.STATIC_PRESSURE,
            contact=Contact.ELBOW,
            pressure=draw(st.sampled_from([PressureLevel.FIRM, PressureLevel.DEEP])),
        )
    else:
        fields.update(
            regions=draw(st.sampled_from((*REGIONS[:2], REGIONS[0] + REGIONS[1]))),
            pressure=draw(st.sampled_from([PressureLevel.MODERATE, PressureLevel.FIRM])),
            seconds=draw(st.sampled_from([60, 150, 200])),
            check_in=draw(st.booleans()),
        )
    return make_step(draw(st.sampled_from(["a", "b", "c", f"s{index}"])), **fields)


contexts = st.builds(
    SafetyContext,
    restrictions=st.builds(
        Restrictions,
        excluded_regions=st.sampled_from(
            [{}, {"upper-trapezius-left": "sore"}, {"latissimus-left": "pain"}]
        ),
    ),
    upper_trapezius_stopped=st.booleans(),
    knot_limit_seconds=st.sampled_from([60.0, 120.0]),
)


@settings(max_examples=150, deadline=None)
@given(
    sequence=st.lists(steps(), max_size=24),
    candidates=st.lists(steps(99), min_size=1, max_size=3),
    context=contexts,
)
def test_judging_step_by_step_equals_judging_the_whole_sequence(
    sequence: list[Step], candidates: list[Step], context: SafetyContext
) -> None:
    judge = SequenceJudge(ATLAS)
    for done in range(len(sequence) + 1):
        history = sequence[:done]
        for candidate in candidates:
            assert judge.judge(candidate, context) == judged_in_full(candidate, context, history)
        if done < len(sequence):
            judge.push(sequence[done])
    assert len(judge) == len(sequence)


@settings(max_examples=100, deadline=None)
@given(
    sequence=st.lists(steps(), max_size=20),
    part=steps(50),
    rest=steps(51),
    context=contexts,
)
def test_a_change_of_the_current_step_is_judged_after_what_was_done_of_it(
    sequence: list[Step], part: Step, rest: Step, context: SafetyContext
) -> None:
    """The engine judges a changed step after the part of the current step already done;
    asking on a copy leaves the judge of the done steps as it was."""
    judge = SequenceJudge.of(sequence, ATLAS)
    assert judge.after(part).judge(rest, context) == judged_in_full(
        rest, context, [*sequence, part]
    )
    assert judge.judge(rest, context) == judged_in_full(rest, context, sequence)
    assert judge_step(rest, context, history=sequence) == judged_in_full(rest, context, sequence)


PLANS = [
    make_plan(PlanRequest(minutes=20, trouble_spots=("upper-trapezius-left", "teres-right"))),
    make_plan(PlanRequest(minutes=45, trouble_spots=("latissimus-left",), pressure=4)),
    make_plan(PlanRequest(minutes=90, activities=("running",))),
]


@settings(max_examples=120, deadline=None)
@given(
    plan=st.sampled_from(PLANS),
    at=st.floats(0, 1),
    pressure=st.sampled_from(list(PressureLevel)),
    contact=st.sampled_from(list(Contact)),
    knot=st.booleans(),
    stopped=st.booleans(),
)
def test_a_changed_step_of_a_real_plan_is_judged_as_in_full(
    plan: Plan,
    at: float,
    pressure: PressureLevel,
    contact: Contact,
    knot: bool,
    stopped: bool,
) -> None:
    """Live changes (firmer, softer, another contact, a knot found) at any point of a plan."""
    steps_done = list(plan.steps)
    index = min(int(at * len(steps_done)), len(steps_done) - 1)
    changed = steps_done[index].model_copy(
        update={"pressure": pressure, "contact": contact, "knot": knot}
    )
    context = SafetyContext(restrictions=plan.restrictions, upper_trapezius_stopped=stopped)
    history = steps_done[:index]
    judge = SequenceJudge.of(history, ATLAS)
    assert judge.judge(changed, context) == judged_in_full(changed, context, history)
