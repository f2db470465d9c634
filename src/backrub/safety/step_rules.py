"""Rules about single steps: where the hands may press, how hard, and with what (X1-X5, C2, U5, G1).

Each judges one step (or drawn stroke) on its own, whatever came before it.
"""

from __future__ import annotations

from collections.abc import Iterator

from backrub.atlas import Area, Tissue
from backrub.method.step import Step
from backrub.method.vocabulary import (
    DEEP_CONTACTS,
    DEEP_PRESSURE,
    FINGER_CONTACTS,
    PERCUSSION_CONTACTS,
    PressureLevel,
    Technique,
)
from backrub.method.words import contact_info
from backrub.safety.context import SafetyContext
from backrub.safety.rule import (
    KIDNEY_PRESSURE_CAP,
    NECK_PRESSURE_CAP,
    Rule,
    crossed,
    regions_of,
    touches_upper_trapezius,
)
from backrub.safety.violation import Violation

NECK_CONTACTS = FINGER_CONTACTS


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
