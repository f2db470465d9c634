"""The hard rules of the method, one class each, found by the method element id they enforce.

Step rules judge one step (or stroke) on its own; sequence rules judge the order and totals of a
routine, a plan or a live session's history. Every rule says which step broke it and why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import ClassVar

from backrub.atlas import Area, Point, Region, Side, Tissue
from backrub.method.step import Step
from backrub.method.vocabulary import (
    DEEP_CONTACTS,
    DEEP_PRESSURE,
    FINGER_CONTACTS,
    PERCUSSION_CONTACTS,
    Contact,
    PhaseKind,
    PressureLevel,
    Technique,
)
from backrub.method.words import contact_info
from backrub.safety.context import (
    AFTERCARE_MIN_SECONDS,
    UPPER_TRAPEZIUS_LIMIT_SECONDS,
    WARM_UP_PASSES,
    SafetyContext,
)
from backrub.safety.violation import Violation

UPPER_TRAPEZIUS = "upper-trapezius"
NECK_CONTACTS = FINGER_CONTACTS
KIDNEY_PRESSURE_CAP = PressureLevel.MODERATE
NECK_PRESSURE_CAP = PressureLevel.LIGHT


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

    def violation(self, step: Step | None, message: str) -> Violation:
        return Violation(
            rule=self.id, title=self.title, step=step.id if step else None, message=message
        )


def regions_of(step: Step, context: SafetyContext) -> list[Region]:
    return [context.atlas.region(region_id) for region_id in step.regions]


def stroke_paths(step: Step, context: SafetyContext) -> list[tuple[Point, ...]]:
    """The lines the hands travel: the step's own path, else each region's line of work."""
    if step.path is not None:
        return [step.path]
    geometry = context.atlas.geometry
    return [geometry.stroke_path(region_id) for region_id in step.regions]


def crossed(step: Step, context: SafetyContext, tissue: Tissue) -> list[str]:
    geometry = context.atlas.geometry
    found: dict[str, None] = {}
    for path in stroke_paths(step, context):
        found.update(dict.fromkeys(geometry.crossed(path, tissue=tissue)))
    return list(found)


class NoPressureOnBone(Rule):
    id = "X1"
    title = "no pressure on bone"
    method_ids = ("X1",)

    def check_step(self, step: Step, context: SafetyContext) -> Iterator[Violation]:
        # Only a feather-light sweep may pass over bone; anything else presses on it, and
        # pressing on bone hurts without relaxing anything, however light.
        if step.technique is Technique.SWEEP and step.pressure <= PressureLevel.FEATHER:
            return
        what = f"{step.technique} at pressure {int(step.pressure)}"
        bones = [r.id for r in regions_of(step, context) if r.tissue is Tissue.BONE]
        if bones:
            yield self.violation(
                step,
                f"{what} on bone ({', '.join(bones)}); only a feather-light sweep may pass there",
            )
            return
        crossings = crossed(step, context, Tissue.BONE)
        if crossings:
            yield self.violation(
                step,
                f"the stroke path crosses bone ({', '.join(crossings)}) with {what}; "
                "lift off or go around it",
            )


class NoPercussionOverKidneys(Rule):
    id = "X2"
    title = "no percussion over the kidneys"
    method_ids = ("X2",)

    def check_step(self, step: Step, context: SafetyContext) -> Iterator[Violation]:
        kidneys = [r.id for r in regions_of(step, context) if r.tissue is Tissue.CAUTION]
        kidneys += [k for k in crossed(step, context, Tissue.CAUTION) if k not in kidneys]
        if not kidneys:
            return
        if step.technique is Technique.PERCUSSION:
            yield self.violation(step, f"percussion over the kidney area ({', '.join(kidneys)})")
        elif step.pressure > KIDNEY_PRESSURE_CAP:
            yield self.violation(
                step,
                f"pressure {int(step.pressure)} over the kidney area ({', '.join(kidneys)}); "
                f"at most {int(KIDNEY_PRESSURE_CAP)} there",
            )


class PercussionOnUpperBackOnly(Rule):
    id = "C2"
    title = "percussion on the upper back only, with loose fists or hand edges"
    method_ids = ("C2",)

    def check_step(self, step: Step, context: SafetyContext) -> Iterator[Violation]:
        if step.technique is not Technique.PERCUSSION:
            return
        outside = [r.id for r in regions_of(step, context) if r.area is not Area.UPPER_BACK]
        if outside:
            yield self.violation(step, f"percussion outside the upper back ({', '.join(outside)})")
        if step.contact not in PERCUSSION_CONTACTS:
            yield self.violation(
                step, f"percussion with {step.contact}; use loose fists or the edges of the hands"
            )


class GentleNeck(Rule):
    id = "X3"
    title = "neck: gentle pressure, fingers or thumbs only"
    method_ids = ("X3", "N2")

    def check_step(self, step: Step, context: SafetyContext) -> Iterator[Violation]:
        neck = [r.id for r in regions_of(step, context) if r.area is Area.NECK]
        if not neck:
            return
        if step.pressure > NECK_PRESSURE_CAP:
            yield self.violation(
                step,
                f"pressure {int(step.pressure)} on the neck ({', '.join(neck)}); "
                f"at most {int(NECK_PRESSURE_CAP)}",
            )
        light_sweep = step.technique is Technique.SWEEP and step.pressure <= PressureLevel.FEATHER
        if step.contact not in NECK_CONTACTS and not light_sweep:
            yield self.violation(
                step, f"{step.contact} on the neck; use fingertips or thumbs there"
            )


class DeepPressureNeedsStrongContact(Rule):
    id = "U5"
    title = "deep pressure and knots only with heel of hand, knuckles, forearm or elbow"
    method_ids = ("U5", "G1")

    def check_step(self, step: Step, context: SafetyContext) -> Iterator[Violation]:
        if step.pressure >= DEEP_PRESSURE and step.contact not in DEEP_CONTACTS:
            yield self.violation(
                step,
                f"pressure {int(step.pressure)} with {step.contact}; lean in through a "
                "stronger contact",
            )
        knot_work = step.knot and step.technique is not Technique.MILD_RUBBING
        if knot_work and step.contact in FINGER_CONTACTS:
            yield self.violation(step, f"knot work with {step.contact} alone")


class ContactWithinItsRange(Rule):
    id = "G1"
    title = "each contact within the pressure range it is fit for"
    method_ids = ("G1",)

    def check_step(self, step: Step, context: SafetyContext) -> Iterator[Violation]:
        info = contact_info(step.contact)
        if not info.fits(step.pressure):
            yield self.violation(
                step,
                f"pressure {int(step.pressure)} with {step.contact}, which is fit for "
                f"{info.min}-{info.max}",
            )


class ScreeningLimits(Rule):
    id = "X5"
    title = "screening limits respected"
    method_ids = ("X5",)

    def check_step(self, step: Step, context: SafetyContext) -> Iterator[Violation]:
        limits = context.restrictions
        for region_id in step.regions:
            if region_id in limits.excluded_regions:
                yield self.violation(
                    step, f"{region_id} is left out: {limits.excluded_regions[region_id]}"
                )
        if limits.max_pressure is not None and step.pressure > limits.max_pressure:
            yield self.violation(
                step,
                f"pressure {int(step.pressure)} above the cap of {int(limits.max_pressure)}: "
                f"{limits.max_pressure_reason}",
            )
        if step.technique in limits.removed_techniques:
            yield self.violation(
                step, f"{step.technique} is left out: {limits.removed_techniques[step.technique]}"
            )
        if step.contact in limits.removed_contacts:
            yield self.violation(
                step, f"{step.contact} is left out: {limits.removed_contacts[step.contact]}"
            )


def touches_upper_trapezius(step: Step, context: SafetyContext) -> bool:
    return any(region.base == UPPER_TRAPEZIUS for region in regions_of(step, context))


class HeadacheEndsUpperTrapezius(Rule):
    id = "X4"
    title = "headache or nausea ends upper-trapezius work"
    method_ids = ("X4", "U4")

    def check_step(self, step: Step, context: SafetyContext) -> Iterator[Violation]:
        # Only a feather-light sweep (the closing's) may still pass over the area.
        light_sweep = step.technique is Technique.SWEEP and step.pressure <= PressureLevel.FEATHER
        stopped = context.upper_trapezius_stopped and not light_sweep
        if stopped and touches_upper_trapezius(step, context):
            yield self.violation(
                step, "upper-trapezius work after a headache or nausea was reported"
            )


class CheckInOnUpperTrapezius(Rule):
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

    def check_sequence(self, steps: Sequence[Step], context: SafetyContext) -> Iterator[Violation]:
        seconds: dict[Side, float] = defaultdict(float)
        for step in steps:
            if step.pressure < PressureLevel.MODERATE:
                continue
            for region in regions_of(step, context):
                if region.base == UPPER_TRAPEZIUS:
                    seconds[region.side] += step.seconds
                    if seconds[region.side] > UPPER_TRAPEZIUS_LIMIT_SECONDS:
                        yield self.violation(
                            step,
                            f"{seconds[region.side]:.0f} s of firm work on the {region.side} "
                            f"upper trapezius; at most {UPPER_TRAPEZIUS_LIMIT_SECONDS:.0f} s",
                        )


def _is_knot_work(step: Step) -> bool:
    return step.knot and step.technique is not Technique.MILD_RUBBING


def knot_runs(steps: Sequence[Step]) -> Iterator[tuple[int, list[Step]]]:
    """Each knot worked rung by rung: (index just after its last knot step, its knot steps).

    A pause on the same spot shorter than real aftercare does not end the knot: resuming
    after a few seconds' rub is still the same knot, and still counts toward its bound (U8).
    """
    index = 0
    while index < len(steps):
        step = steps[index]
        if not _is_knot_work(step):
            index += 1
            continue
        run = [step]
        end = index + 1
        while end < len(steps):
            gap = end
            while (
                gap < len(steps)
                and not _is_knot_work(steps[gap])
                and steps[gap].regions == step.regions
                and sum(s.seconds for s in steps[end : gap + 1]) < AFTERCARE_MIN_SECONDS
            ):
                gap += 1
            resumes = gap < len(steps) and _is_knot_work(steps[gap])
            if resumes and steps[gap].regions == step.regions:
                run.append(steps[gap])
                end = gap + 1
            else:
                break
        yield end, run
        index = end


def _taken_out(step: Step, context: SafetyContext) -> bool:
    excluded = context.restrictions.excluded_regions
    stopped = context.upper_trapezius_stopped and touches_upper_trapezius(step, context)
    return stopped or any(region in excluded for region in step.regions)


class ElbowOnlyAtTheTopOfTheLadder(Rule):
    id = "U6"
    title = "elbow only after the knot ladder reached it and the receiver accepted"
    method_ids = ("U6",)

    def check_sequence(self, steps: Sequence[Step], context: SafetyContext) -> Iterator[Violation]:
        for index, step in enumerate(steps):
            if step.contact is not Contact.ELBOW:
                continue
            if not step.consent:
                yield self.violation(step, "elbow without the receiver accepting it")
            previous = steps[index - 1] if index > 0 else None
            reached = (
                previous is not None
                and previous.knot
                and previous.regions == step.regions
                and previous.contact in (Contact.FOREARM, Contact.ELBOW)
            )
            if not (step.knot and reached):
                yield self.violation(
                    step, "elbow must follow the forearm rung of a knot ladder on the same spot"
                )


class ElbowStartsAtFortyFiveDegrees(Rule):
    id = "U7"
    title = "the elbow starts bent at about 45 degrees (firm, not deep)"
    method_ids = ("U7",)

    def check_sequence(self, steps: Sequence[Step], context: SafetyContext) -> Iterator[Violation]:
        for index, step in enumerate(steps):
            if step.contact is not Contact.ELBOW or step.pressure <= PressureLevel.FIRM:
                continue
            previous = steps[index - 1] if index > 0 else None
            if previous is None or previous.contact is not Contact.ELBOW:
                yield self.violation(
                    step,
                    f"elbow starts at pressure {int(step.pressure)}; start at 4 (arm at "
                    "about 45 degrees) and bend further only after that",
                )


class KnotWorkIsBounded(Rule):
    id = "U8"
    title = "knot work bounded to about two minutes"
    method_ids = ("U8",)

    def check_sequence(self, steps: Sequence[Step], context: SafetyContext) -> Iterator[Violation]:
        for _end, run in knot_runs(steps):
            total = sum(step.seconds for step in run)
            if total > context.knot_limit_seconds + 0.5:
                yield self.violation(
                    run[-1],
                    f"{total:.0f} s on one knot; at most {context.knot_limit_seconds:.0f} s",
                )


class AftercareAfterKnot(Rule):
    id = "U9"
    title = "after knot work, mild rubbing on the same spot"
    method_ids = ("U9",)

    def check_sequence(self, steps: Sequence[Step], context: SafetyContext) -> Iterator[Violation]:
        for after, run in knot_runs(steps):
            follow = steps[after] if after < len(steps) else None
            if follow is None and not context.require_closing:
                continue
            if _taken_out(run[0], context):
                # The spot itself was taken out (pain, headache): no more work there at all.
                continue
            if (
                follow is None
                or follow.technique not in (Technique.MILD_RUBBING, Technique.KNEADING)
                or follow.pressure > PressureLevel.LIGHT
                or not set(run[0].regions) <= set(follow.regions)
            ):
                yield self.violation(
                    run[-1], "knot work must be followed by light rubbing on the same spot"
                )


def warm_up_areas(steps: Sequence[Step], context: SafetyContext) -> dict[Area, int]:
    """Passes of opening palm compressions each area has had so far."""
    passes: dict[Area, int] = defaultdict(int)
    for step in steps:
        if step.phase is PhaseKind.OPENING and step.technique is Technique.PALM_COMPRESSION:
            for area in {region.area for region in regions_of(step, context)}:
                passes[area] += step.passes
    return passes


class WarmUpBeforeDeepWork(Rule):
    id = "O4"
    title = "the back is warmed up with a few passes before deep work"
    method_ids = ("O4", "O1")

    def check_sequence(self, steps: Sequence[Step], context: SafetyContext) -> Iterator[Violation]:
        for index, step in enumerate(steps):
            if not step.is_deep:
                continue
            passes = warm_up_areas(steps[:index], context)
            for area in {region.area for region in regions_of(step, context)}:
                if passes.get(area, 0) < WARM_UP_PASSES:
                    yield self.violation(
                        step,
                        f"deep work on the {area} after {passes.get(area, 0)} warm-up pass(es); "
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


RULES: tuple[Rule, ...] = (
    NoPressureOnBone(),
    NoPercussionOverKidneys(),
    GentleNeck(),
    HeadacheEndsUpperTrapezius(),
    ScreeningLimits(),
    DeepPressureNeedsStrongContact(),
    ContactWithinItsRange(),
    CheckInOnUpperTrapezius(),
    ElbowOnlyAtTheTopOfTheLadder(),
    ElbowStartsAtFortyFiveDegrees(),
    KnotWorkIsBounded(),
    AftercareAfterKnot(),
    WarmUpBeforeDeepWork(),
    SidesBalanced(),
    ClosingSequence(),
    PercussionOnUpperBackOnly(),
)
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
