"""Fitting durations: the stretch found by walking the total's bends is the one halving found.

`fit_durations` used to halve an interval sixty times over every step (issue 12: a large share of
a plan's and of every live re-plan's time). The plans must not change: the same stretch, to the
float, and so the same seconds for every step.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backrub.method.step import Step
from backrub.planner.timing import (
    BudgetTooLong,
    _groups,
    changed,
    fit_durations,
    refit_durations,
    unweighted,
)
from tests.conftest import make_step


def weight(step: Step) -> float:
    return 1.5 if step.priority == 3 else 1.0


def halved_stretch(steps: list[Step], budget: float) -> float:
    """The former search: the least stretch reaching the budget, by sixty halvings."""
    groups = _groups(steps, weight)
    size = [len(group.indexes) for group in groups]

    def total(scale: float) -> float:
        return sum(n * group.at(scale) for n, group in zip(size, groups, strict=True))

    low, high = 0.0, 1.0
    while total(high) < budget:
        high *= 2
    for _ in range(60):
        middle = (low + high) / 2
        if total(middle) < budget:
            low = middle
        else:
            high = middle
    return high


@st.composite
def timed_steps(draw: st.DrawFn, halves: int = 2) -> list[Step]:
    steps = []
    for index in range(draw(st.integers(1, 30))):
        seconds = draw(st.sampled_from([10, 15, 30, 45, 60, 67.5, 90, 120]))
        low = draw(st.sampled_from([0, 5, 10, seconds]))
        high = draw(st.sampled_from([None, seconds, seconds * 2, seconds * 3.5]))
        pair = draw(st.sampled_from([None, None, f"p{index // halves}"]))
        steps.append(
            make_step(
                f"s{index}",
                seconds=seconds,
                min_seconds=min(low, seconds),
                max_seconds=high,
                pair=pair,
                priority=draw(st.integers(1, 3)),
            )
        )
    return steps


@settings(max_examples=300, deadline=None)
@given(steps=timed_steps(), share=st.floats(0.2, 1.0), whole=st.booleans())
def test_the_stretch_and_the_seconds_are_those_the_halving_found(
    steps: list[Step], share: float, whole: bool
) -> None:
    longest = sum(s.max_seconds if s.max_seconds is not None else s.seconds for s in steps)
    budget = longest * share
    budget = float(round(budget)) if whole else budget
    try:
        timed, stretch = fit_durations(steps, budget, weight)
    except BudgetTooLong:
        return
    halved = halved_stretch(steps, budget)
    # Where every step already sits at its shortest, halving ends a hair above zero; the
    # seconds, not the stretch, are what must match there.
    assert stretch == halved or halved < 1e-15
    groups = _groups(steps, weight)
    assert [round(g.at(stretch)) for g in groups] == [round(g.at(halved)) for g in groups]
    assert [step.id for step in timed] == [step.id for step in steps]


@settings(max_examples=100, deadline=None)
@given(steps=timed_steps(), share=st.floats(0.2, 1.0))
def test_a_step_whose_seconds_stay_is_the_same_step(steps: list[Step], share: float) -> None:
    """A step the fit leaves at its seconds comes back as the same object; only the steps
    re-timed are copied (re-planning re-fits a live queue often)."""
    longest = sum(s.max_seconds if s.max_seconds is not None else s.seconds for s in steps)
    try:
        timed, _ = fit_durations(steps, float(round(longest * share)), weight)
    except BudgetTooLong:
        return
    try:
        again, _ = fit_durations(timed, sum(s.seconds for s in timed), weight)
    except BudgetTooLong:
        # Whole seconds can overshoot a fractional longest (a step held at 67.5 s is timed
        # 68): the fitted total is then no budget the same steps can be fitted to again.
        return
    for before, after in zip(timed, again, strict=True):
        assert (after is before) == (after.seconds == before.seconds)


def fitted_seconds(
    steps: list[Step], budget: float, stretch: float, kind: Callable[[Step], float]
) -> list[float]:
    """Each step's seconds as the fit defines them, group by group (issue 12 made the fit work
    in columns; the seconds must stay these): every group rounded at the stretch, then the
    remainder spread a second at a time, single steps before pairs, each in order."""
    groups = _groups(steps, kind)
    values = [float(round(group.at(stretch))) for group in groups]
    size = [len(group.indexes) for group in groups]
    total = sum(n * value for n, value in zip(size, values, strict=True))
    for _ in range(len(groups) * 4):
        remainder = budget - total
        if abs(remainder) < 0.5:
            break
        step = 1.0 if remainder > 0 else -1.0
        for i in sorted(range(len(groups)), key=lambda i: (size[i], i)):
            candidate = values[i] + step
            group = groups[i]
            if (
                size[i] <= abs(remainder)
                and group.low - 1e-9 <= candidate <= group.high + 1e-9
                and candidate >= 1
            ):
                values[i] = candidate
                total += size[i] * step
                break
        else:
            break
    seconds = [0.0] * len(steps)
    for group, value in zip(groups, values, strict=True):
        for index in group.indexes:
            seconds[index] = value
    return seconds


@settings(max_examples=300, deadline=None)
@given(steps=timed_steps(), share=st.floats(0.2, 1.0), whole=st.booleans())
def test_the_seconds_are_the_groups_rounded_and_settled(
    steps: list[Step], share: float, whole: bool
) -> None:
    """Weighted (a plan) and unweighted (a live re-plan, which reads no weights): each step
    gets its group's rounded seconds, the remainder spread as the fit always did."""
    longest = sum(s.max_seconds if s.max_seconds is not None else s.seconds for s in steps)
    budget = float(round(longest * share)) if whole else longest * share
    for kind in (weight, unweighted):
        try:
            timed, stretch = fit_durations(steps, budget, kind)
        except BudgetTooLong:
            return
        expected = fitted_seconds(steps, budget, stretch, kind)
        assert [step.seconds for step in timed] == expected
        for before, after in zip(steps, timed, strict=True):
            assert (after is before) == (after.seconds == before.seconds)
    # Unweighted is the same fit as a weight of one for every step, to the float.
    plain = fit_durations(steps, budget, lambda _step: 1.0)
    fast = fit_durations(steps, budget, unweighted)
    assert plain[1] == fast[1]
    assert [s.seconds for s in plain[0]] == [s.seconds for s in fast[0]]


def same_timing(steps: list[Step], budget: float) -> list[Step] | None:
    """`refit_durations` against `fit_durations`: the same seconds, the same objects where a
    step keeps its seconds, the same refusal; the fit's steps (None if refused)."""
    try:
        expected, _ = fit_durations(steps, budget, unweighted)
    except BudgetTooLong as too_long:
        with pytest.raises(BudgetTooLong) as refused:
            refit_durations(steps, budget)
        assert refused.value.longest == too_long.longest
        return None
    timed = refit_durations(steps, budget)
    assert [step.seconds for step in timed] == [step.seconds for step in expected]
    for step, fitted, refitted in zip(steps, expected, timed, strict=True):
        assert (refitted is step) == (fitted is step)
    return expected


@settings(max_examples=300, deadline=None)
@given(
    steps=st.one_of(timed_steps(), timed_steps(halves=3)),
    share=st.floats(0.2, 1.0),
    whole=st.booleans(),
    change=st.floats(-0.2, 0.2),
    tenths=st.booleans(),
)
def test_a_refit_times_the_steps_as_the_fit_does(
    steps: list[Step], share: float, whole: bool, change: float, tenths: bool
) -> None:
    """Re-planning's re-fit, which never asks for the stretch (so never finds it to the
    float), times steps to the bit as the fit does: steps as planned, then steps already
    fitted (a live queue) fitted again to the time left a little changed, to a tenth of a
    second as the live clock has it or not."""
    longest = sum(s.max_seconds if s.max_seconds is not None else s.seconds for s in steps)
    budget = float(round(longest * share)) if whole else longest * share
    fitted = same_timing(steps, budget)
    if fitted is None:
        return
    again = sum(step.seconds for step in fitted) * (1 + change)
    same_timing(fitted, round(again, 1) if tenths else again)


def test_a_changed_step_is_what_model_copy_gives() -> None:
    """`changed` is a cheaper `model_copy(update=...)`: equal, with the same fields given,
    and the original untouched."""
    step = make_step("s", seconds=30, pair="p")
    for update in ({"seconds": 45.0}, {"seconds": 45.0, "pair": None, "priority": 1}):
        fast, slow = changed(step, **update), step.model_copy(update=update)
        assert fast == slow
        assert fast.model_fields_set == slow.model_fields_set
        assert hash(fast) == hash(slow)
    assert step.seconds == 30 and step.pair == "p"
    assert "priority" not in step.model_fields_set
