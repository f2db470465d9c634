"""Rules about the session as a whole: totals, warm-up, balance and the closing (U4, O4, B1, C1)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence

from backrub.atlas import Area, Side
from backrub.method.step import Step
from backrub.method.vocabulary import PhaseKind, PressureLevel, Technique
from backrub.safety.context import (
    UPPER_TRAPEZIUS_LIMIT_SECONDS,
    WARM_UP_PASSES,
    SafetyContext,
)
from backrub.safety.rule import (
    UPPER_TRAPEZIUS,
    FoldedRule,
    Rule,
    regions_of,
    touches_upper_trapezius,
)
from backrub.safety.violation import Violation


class CheckInOnUpperTrapezius(FoldedRule[Mapping[Side, float]]):
    id = "U4"
    title = "check in during upper-trapezius work, and do not overwork it"
    method_ids = ("U4",)

    def check_step(self, step: Step, context: SafetyContext) -> Iterator[Violation]:
        if (
            step.pressure >= PressureLevel.MODERATE
            and touches_upper_trapezius(step, context)
            and not step.check_in
        ):
            yield self.violation(
                step, "moderate or firmer work on the upper trapezius without a check-in"
            )

    def start(self) -> Mapping[Side, float]:
        return {}

    def judge_next(
        self, step: Step, before: Mapping[Side, float], context: SafetyContext
    ) -> Iterator[Violation]:
        for side, total in self._firm_seconds(step, before, context)[1]:
            yield self.violation(
                step,
                f"{total:.0f} s of firm work on the {side} "
                f"upper trapezius; at most {UPPER_TRAPEZIUS_LIMIT_SECONDS:.0f} s",
            )

    def summarize(
        self, before: Mapping[Side, float], step: Step, context: SafetyContext
    ) -> Mapping[Side, float]:
        return self._firm_seconds(step, before, context)[0]

    @staticmethod
    def _firm_seconds(
        step: Step, before: Mapping[Side, float], context: SafetyContext
    ) -> tuple[Mapping[Side, float], list[tuple[Side, float]]]:
        """Firm seconds per side once the step is done, and each side it takes past the limit
        (with the total at that moment), in the order of the step's regions."""
        if step.pressure < PressureLevel.MODERATE:
            return before, []
        seconds: dict[Side, float] | None = None
        over = []
        for region in regions_of(step, context):
            if region.base == UPPER_TRAPEZIUS:
                seconds = seconds if seconds is not None else dict(before)
                seconds[region.side] = seconds.get(region.side, 0.0) + step.seconds
                if seconds[region.side] > UPPER_TRAPEZIUS_LIMIT_SECONDS:
                    over.append((region.side, seconds[region.side]))
        return (before if seconds is None else seconds), over


def warm_up_areas(steps: Sequence[Step], context: SafetyContext) -> dict[Area, int]:
    """Passes of opening palm compressions each area has had so far."""
    passes: dict[Area, int] = {}
    for step in steps:
        _add_warm_up(passes, step, context)
    return passes


def _is_warm_up(step: Step) -> bool:
    return step.phase is PhaseKind.OPENING and step.technique is Technique.PALM_COMPRESSION


def _add_warm_up(passes: dict[Area, int], step: Step, context: SafetyContext) -> None:
    if _is_warm_up(step):
        for area in {region.area for region in regions_of(step, context)}:
            passes[area] = passes.get(area, 0) + step.passes


class WarmUpBeforeDeepWork(FoldedRule[Mapping[Area, int]]):
    id = "O4"
    title = "the back is warmed up with a few passes before deep work"
    method_ids = ("O4", "O1")

    def start(self) -> Mapping[Area, int]:
        return {}

    def summarize(
        self, before: Mapping[Area, int], step: Step, context: SafetyContext
    ) -> Mapping[Area, int]:
        if not _is_warm_up(step):
            return before
        passes = dict(before)
        _add_warm_up(passes, step, context)
        return passes

    def judge_next(
        self, step: Step, before: Mapping[Area, int], context: SafetyContext
    ) -> Iterator[Violation]:
        if not step.is_deep:
            return
        for area in {region.area for region in regions_of(step, context)}:
            if before.get(area, 0) < WARM_UP_PASSES:
                yield self.violation(
                    step,
                    f"deep work on the {area} after {before.get(area, 0)} warm-up pass(es); "
                    f"needs {WARM_UP_PASSES}",
                )
                break


class SidesBalanced(Rule):
    id = "B1"
    title = "both sides get the same work"
    method_ids = ("B1",)

    def check_sequence(self, steps: Sequence[Step], context: SafetyContext) -> Iterator[Violation]:
        for base, (left, right) in sorted(side_seconds(steps, context).items()):
            if abs(left - right) > self.allowance(left, right, context):
                yield self.violation(
                    None, f"{base}: {left:.0f} s on the left, {right:.0f} s on the right"
                )

    @staticmethod
    def allowance(left: float, right: float, context: SafetyContext) -> float:
        return max(context.balance_floor_seconds, context.balance_tolerance * max(left, right))


def side_seconds(steps: Sequence[Step], context: SafetyContext) -> dict[str, tuple[float, float]]:
    """Seconds of work per paired region, left and right; pairs with a side left out are skipped."""
    atlas = context.atlas
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for step in steps:
        for region in regions_of(step, context):
            if region.side is Side.MIDLINE:
                continue
            totals[region.base][0 if region.side is Side.LEFT else 1] += step.seconds
    excluded = set(context.restrictions.excluded_regions)
    kept = {}
    for base, (left, right) in totals.items():
        pair = {f"{base}-left", f"{base}-right"}
        if pair & excluded:
            continue
        if context.upper_trapezius_stopped and base == UPPER_TRAPEZIUS:
            continue
        if atlas.has_region(f"{base}-left"):
            kept[base] = (left, right)
    return kept


class ClosingSequence(Rule):
    id = "C1"
    title = "the session ends with compressions, then percussion, then light sweeps"
    method_ids = ("C1", "C2", "C4")

    def check_sequence(self, steps: Sequence[Step], context: SafetyContext) -> Iterator[Violation]:
        if not context.require_closing or not steps:
            return
        # A part may be missing only when it was taken out (by screening, or live: skipped,
        # or stopped at once for pain); X5 catches a part that screening forbade.
        removed = {_closing_kind_of(t) for t in context.restrictions.removed_techniques}
        required = [kind for kind in _CLOSING_ORDER if kind not in removed]
        first = next((i for i, s in enumerate(steps) if s.phase is PhaseKind.CLOSING), None)
        if first is None:
            if required:  # every part taken out (nowhere left to work): nothing to close with
                yield self.violation(None, "no closing sequence")
            return
        closing = steps[first:]
        intruder = next((s for s in closing if s.phase is not PhaseKind.CLOSING), None)
        if intruder is not None:
            yield self.violation(intruder, "work after the closing sequence began")
            return
        kinds = [_closing_kind(step) for step in closing]
        order = [kind for index, kind in enumerate(kinds) if index == 0 or kinds[index - 1] != kind]
        in_order = order == [kind for kind in _CLOSING_ORDER if kind in order]
        if not in_order or not set(required) <= set(order):
            got = " -> ".join(order) or "nothing"
            yield self.violation(
                closing[0], f"closing goes {got}; expected {' -> '.join(required)}"
            )
        deep = next((s for s in closing if s.is_deep), None)
        if deep is not None:
            yield self.violation(deep, "deep work during the closing sequence")


_CLOSING_ORDER = ("compression", "percussion", "sweep")


def _closing_kind_of(technique: Technique) -> str:
    names = {
        Technique.PALM_COMPRESSION: "compression",
        Technique.PERCUSSION: "percussion",
        Technique.SWEEP: "sweep",
    }
    return names.get(technique, technique.value)


def _closing_kind(step: Step) -> str:
    return _closing_kind_of(step.technique)
