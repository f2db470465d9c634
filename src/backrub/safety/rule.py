"""What every hard rule is made of, and the look-ups the rules share.

A rule judges single steps (`check_step`), whole sequences (`check_sequence`), or both. A rule
with a sequence part also gives a `Tracker`: what it keeps of the steps done so far, so that the
live guide can judge the next step at the cost of what that step can break (safety.sequence).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar, Generic, Protocol, TypeVar

from backrub.atlas import Point, Region, Tissue
from backrub.method.step import Step
from backrub.method.vocabulary import PressureLevel
from backrub.safety.context import SafetyContext
from backrub.safety.violation import Violation

UPPER_TRAPEZIUS = "upper-trapezius"
KIDNEY_PRESSURE_CAP = PressureLevel.MODERATE
NECK_PRESSURE_CAP = PressureLevel.LIGHT


class Tracker(Protocol):
    """One rule's memory of a growing sequence of done steps."""

    def added(self, step: Step, context: SafetyContext) -> Iterator[Violation]:
        """What doing `step` next adds to the rule's verdict on the whole sequence."""
        ...

    def push(self, step: Step, context: SafetyContext) -> None:
        """`step` was done: remember it (only its atlas facts; the limits come with each ask)."""
        ...

    def extend(self, steps: Sequence[Step], context: SafetyContext) -> None:
        """Each of `steps` was done, in order (as many pushes, in one go)."""
        ...

    def copy(self) -> Tracker: ...


class Rule:
    """A named hard rule. Subclasses override `check_step`, `check_sequence`, or both."""

    id: ClassVar[str]
    title: ClassVar[str]
    method_ids: ClassVar[tuple[str, ...]]

    def check(self, steps: Sequence[Step], context: SafetyContext) -> Iterator[Violation]:
        for step in steps:
            yield from self.check_step(step, context)
        yield from self.check_sequence(steps, context)

    def check_step(self, step: Step, context: SafetyContext) -> Iterator[Violation]:
        return iter(())

    def check_sequence(self, steps: Sequence[Step], context: SafetyContext) -> Iterator[Violation]:
        return iter(())

    def tracker(self) -> Tracker | None:
        """The rule's memory for judging step by step; None when it has no sequence part."""
        return None

    def violation(self, step: Step | None, message: str) -> Violation:
        return Violation(
            rule=self.id, title=self.title, step=step.id if step else None, message=message
        )


Summary = TypeVar("Summary")


class FoldedRule(Rule, Generic[Summary]):
    """A sequence rule whose verdict on each step needs only a summary of the steps before it.

    The whole-sequence check is the fold of the step check, so judging one more step costs
    one step, whatever the length of the session. Summaries are never changed in place.
    """

    def start(self) -> Summary:
        raise NotImplementedError

    def judge_next(
        self, step: Step, before: Summary, context: SafetyContext
    ) -> Iterator[Violation]:
        """The violations `step` brings, done after steps summed up as `before`."""
        raise NotImplementedError

    def summarize(self, before: Summary, step: Step, context: SafetyContext) -> Summary:
        """The summary once `step` is done too (a new object, or `before` if nothing changed)."""
        raise NotImplementedError

    def check_sequence(self, steps: Sequence[Step], context: SafetyContext) -> Iterator[Violation]:
        summary = self.start()
        for step in steps:
            yield from self.judge_next(step, summary, context)
            summary = self.summarize(summary, step, context)

    def tracker(self) -> Tracker:
        return _FoldTracker(self, self.start())


class _FoldTracker(Generic[Summary]):
    __slots__ = ("rule", "summary")

    def __init__(self, rule: FoldedRule[Summary], summary: Summary) -> None:
        self.rule = rule
        self.summary = summary

    def added(self, step: Step, context: SafetyContext) -> Iterator[Violation]:
        return self.rule.judge_next(step, self.summary, context)

    def push(self, step: Step, context: SafetyContext) -> None:
        self.summary = self.rule.summarize(self.summary, step, context)

    def extend(self, steps: Sequence[Step], context: SafetyContext) -> None:
        summarize, summary = self.rule.summarize, self.summary
        for step in steps:
            summary = summarize(summary, step, context)
        self.summary = summary

    def copy(self) -> Tracker:
        return _FoldTracker(self.rule, self.summary)


def regions_of(step: Step, context: SafetyContext) -> list[Region]:
    return [context.atlas.region(region_id) for region_id in step.regions]


def stroke_paths(step: Step, context: SafetyContext) -> list[tuple[Point, ...]]:
    """The lines the hands travel: the step's own path, else each region's line of work."""
    if step.path is not None:
        return [step.path]
    geometry = context.atlas.answers
    return [geometry.stroke_path(region_id) for region_id in step.regions]


def crossed(step: Step, context: SafetyContext, tissue: Tissue) -> list[str]:
    geometry = context.atlas.answers
    # Asked of every step a live session judges (X1, X2), of the same few lines again and
    # again: the answer depends only on them, so it is kept (bounded, as the geometry's own).
    key = (geometry, step.path, step.regions, tissue)
    known = _CROSSED.get(key)
    if known is None:
        found: dict[str, None] = {}
        for path in stroke_paths(step, context):
            found.update(dict.fromkeys(geometry.crossed(path, tissue=tissue)))
        known = tuple(found)
        if len(_CROSSED) >= 4096:
            _CROSSED.clear()
        _CROSSED[key] = known
    return list(known)


_CROSSED: dict[tuple[object, ...], tuple[str, ...]] = {}


def touches_upper_trapezius(step: Step, context: SafetyContext) -> bool:
    return any(region.base == UPPER_TRAPEZIUS for region in regions_of(step, context))
