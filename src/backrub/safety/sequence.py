"""Judging the next step of a live session at the cost of what it can break.

A live guide asks, before every step and every change of one, whether it keeps every rule
after all the steps done so far. Judging the whole sequence again each time makes a long
session dearer by the minute; a SequenceJudge instead keeps what each rule needs of the steps
done (the warm-up passes per area, firm seconds per side, the step just before, the knot still
being worked) and updates it as steps are done, so a question costs the same at minute 90 as at
minute 1. Its answers are those of judging the whole sequence (tests/test_judge_incremental.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from backrub.atlas import Atlas, default_atlas
from backrub.method.step import Step
from backrub.safety.context import SafetyContext
from backrub.safety.rule import Rule, Tracker
from backrub.safety.rules import RULES, ClosingSequence, SidesBalanced
from backrub.safety.violation import Violation

# Rules about a whole session's shape; a single step in the middle of one cannot break them.
WHOLE_SESSION_RULES = (SidesBalanced, ClosingSequence)
_STEP_RULES = tuple(rule for rule in RULES if not isinstance(rule, WHOLE_SESSION_RULES))


class SequenceJudge:
    """The rules' memory of the steps done so far, for judging the next one.

    What it keeps depends only on the steps and the atlas; the limits in force (a SafetyContext:
    restrictions, a headache stop...) come with each question, so they may change at any time.
    """

    __slots__ = ("_count", "_facts", "_plain", "_steps", "_trackers")

    def __init__(self, atlas: Atlas | None = None) -> None:
        # Only the atlas is used when remembering a step (which regions, areas and sides).
        self._facts = SafetyContext(atlas=atlas or default_atlas())
        self._trackers: list[tuple[Rule, Tracker | None]] = [
            (rule, rule.tracker()) for rule in _STEP_RULES
        ]
        # The rules that judge a step on its own (the others' check_step finds nothing): asked
        # on every question, so the rest are not called at all.
        self._steps = tuple(_judges_steps(rule) for rule, _tracker in self._trackers)
        self._count = 0
        # The last context asked with, and the same without the closing required (see `judge`).
        self._plain: tuple[SafetyContext, SafetyContext] | None = None

    @classmethod
    def of(cls, steps: Iterable[Step], atlas: Atlas | None = None) -> SequenceJudge:
        """A judge that has seen `steps` done, in order."""
        judge = cls(atlas)
        judge.extend(steps)
        return judge

    @property
    def atlas(self) -> Atlas:
        return self._facts.atlas

    def __len__(self) -> int:
        """How many steps were done."""
        return self._count

    def push(self, step: Step) -> None:
        """`step` was done (all of it, or the part of it that was done)."""
        for _rule, tracker in self._trackers:
            if tracker is not None:
                tracker.push(step, self._facts)
        self._count += 1

    def extend(self, steps: Iterable[Step]) -> None:
        done = list(steps)
        for _rule, tracker in self._trackers:
            if tracker is not None:
                tracker.extend(done, self._facts)
        self._count += len(done)

    def after(self, step: Step) -> SequenceJudge:
        """A copy that has also seen `step` done; this judge stays as it is."""
        judge = SequenceJudge.__new__(SequenceJudge)
        judge._facts = self._facts
        judge._trackers = [
            (rule, tracker.copy() if tracker is not None else None)
            for rule, tracker in self._trackers
        ]
        judge._steps = self._steps
        judge._count = self._count
        judge._plain = self._plain
        judge.push(step)
        return judge

    def judge(self, step: Step, context: SafetyContext | None = None) -> list[Violation]:
        """Violations `step` would cause if done next: what `judge_step` says with the steps
        done as its history (its own faults, and those it causes to earlier steps, U9)."""
        context = context or self._facts
        if context.atlas is not self.atlas:
            raise ValueError("this judge remembers steps on another atlas than the context's")
        context = self._without_closing(context)
        found: list[Violation] = []
        for (rule, tracker), judges_steps in zip(self._trackers, self._steps, strict=True):
            if judges_steps:
                found.extend(rule.check_step(step, context))
            if tracker is not None:
                found.extend(tracker.added(step, context))
        return found

    def _without_closing(self, context: SafetyContext) -> SafetyContext:
        """`context` without the closing required (one step is never judged on it), made once
        for the context a live session asks with again and again (a copy costs as much as
        several rules)."""
        if not context.require_closing:
            return context
        plain = self._plain
        if plain is None or plain[0] is not context:
            plain = self._plain = (context, replace(context, require_closing=False))
        return plain[1]


def _judges_steps(rule: Rule) -> bool:
    """Whether the rule has a check of single steps of its own (not `Rule`'s, which finds none)."""
    return type(rule).check_step is not Rule.check_step
