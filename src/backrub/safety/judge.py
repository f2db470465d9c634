"""Judging routines, plans, single steps and stroke paths against every hard rule."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Protocol

from backrub.atlas import Point
from backrub.method.routine import Routine
from backrub.method.step import Step
from backrub.method.vocabulary import Contact, PhaseKind, PressureLevel, StepSide, Technique
from backrub.safety.context import SafetyContext
from backrub.safety.restrictions import Restrictions
from backrub.safety.rules import RULES, Rule
from backrub.safety.sequence import SequenceJudge
from backrub.safety.violation import Violation


class HasSteps(Protocol):
    @property
    def steps(self) -> Sequence[Step]: ...

    @property
    def restrictions(self) -> Restrictions: ...


def judge_steps(
    steps: Sequence[Step], context: SafetyContext | None = None, *, rules: Iterable[Rule] = RULES
) -> list[Violation]:
    """Every violation of every rule, in rule order, then step order within a rule."""
    context = context or SafetyContext()
    return [violation for rule in rules for violation in rule.check(steps, context)]


def judge_routine(routine: Routine, context: SafetyContext | None = None) -> list[Violation]:
    base = context or SafetyContext(atlas=routine.atlas)
    # A routine file states durations exactly, so its two sides must match to the second.
    return judge_steps(
        routine.steps, replace(base, balance_tolerance=0.0, balance_floor_seconds=0.5)
    )


def judge_plan(plan: HasSteps, context: SafetyContext | None = None) -> list[Violation]:
    base = context or SafetyContext()
    return judge_steps(plan.steps, replace(base, restrictions=plan.restrictions))


def judge_step(
    step: Step, context: SafetyContext | None = None, *, history: Sequence[Step] = ()
) -> list[Violation]:
    """Violations a step would cause if done now, after `history` (the steps already done).

    What the step makes of the whole sequence: its own faults, and any it causes that a rule
    reports against an earlier step (U9 names the knot work the step fails to follow with
    aftercare). What the history broke before this step is not the step's doing.

    This reads the whole history each time; a live session keeps a SequenceJudge instead and
    pushes each done step to it, so judging costs the same however long the session runs."""
    context = context or SafetyContext()
    return SequenceJudge.of(history, context.atlas).judge(step, context)


def judge_stroke(
    path: Sequence[Point],
    *,
    pressure: PressureLevel,
    technique: Technique,
    contact: Contact,
    context: SafetyContext | None = None,
) -> list[Violation]:
    """Violations of one stroke drawn in the back frame (a robot's or a routine author's path)."""
    context = context or SafetyContext()
    # Every region the line passes through, not just those under its points.
    regions = context.atlas.geometry.regions_along(path)
    stroke = Step(
        id="stroke",
        phase=PhaseKind.UPPER_BACK,
        regions=tuple(regions),
        side=StepSide.MIDLINE,
        technique=technique,
        contact=contact,
        pressure=pressure,
        seconds=0,
        path=tuple(path),
        check_in=True,
    )
    return judge_step(stroke, context)
