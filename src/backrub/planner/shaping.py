"""Fitting each routine step to one receiver: screening limits, pressure preference, hard caps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from backrub.atlas import Area, Atlas, Tissue
from backrub.method.step import Step
from backrub.method.vocabulary import (
    Contact,
    PhaseKind,
    PressureLevel,
    StepSide,
    Technique,
)
from backrub.method.wording import reworded
from backrub.method.words import contact_info
from backrub.planner.plan import LeftOut
from backrub.safety.context import WARM_UP_PASSES, SafetyContext
from backrub.safety.restrictions import Restrictions
from backrub.safety.rules import (
    KIDNEY_PRESSURE_CAP,
    NECK_PRESSURE_CAP,
    UPPER_TRAPEZIUS,
    warm_up_areas,
)

# Techniques whose depth follows the receiver's preference; sweeps and rubbing stay light.
_PRESSING = frozenset(
    {Technique.KNEADING, Technique.CIRCLES, Technique.STATIC_PRESSURE, Technique.PALM_COMPRESSION}
)
# A stronger contact for when the wanted pressure is beyond what the hand is fit for (U5, G1).
# The forearm only takes over still pressure: it cannot knead or draw small circles well.
_STRONGER = {
    Contact.PALMS: Contact.HEEL_OF_HAND,
    Contact.FINGERTIPS: Contact.KNUCKLES,
    Contact.THUMBS: Contact.KNUCKLES,
}
_STRONGER_STILL = {
    **_STRONGER,
    Contact.HEEL_OF_HAND: Contact.FOREARM,
    Contact.KNUCKLES: Contact.FOREARM,
}
# A softer contact for when the wanted pressure is below what the contact can give.
_SOFTER = {
    Contact.HEEL_OF_HAND: Contact.PALMS,
    Contact.KNUCKLES: Contact.PALMS,
    Contact.FOREARM: Contact.PALMS,
    Contact.ELBOW: Contact.FOREARM,
}
# What to use instead when screening takes a contact out.
_INSTEAD = {
    Contact.ELBOW: Contact.FOREARM,
    Contact.FOREARM: Contact.HEEL_OF_HAND,
    Contact.KNUCKLES: Contact.HEEL_OF_HAND,
    Contact.HEEL_OF_HAND: Contact.PALMS,
    Contact.LOOSE_FISTS: Contact.HAND_EDGES,
    Contact.HAND_EDGES: Contact.LOOSE_FISTS,
    Contact.THUMBS: Contact.FINGERTIPS,
    Contact.FINGERTIPS: Contact.THUMBS,
}


def warmed_areas(steps: list[Step], atlas: Atlas) -> frozenset[Area]:
    """Areas the opening covers with enough passes of palm compressions for deep work (O4)."""
    passes = warm_up_areas(steps, SafetyContext(atlas=atlas))
    return frozenset(area for area, count in passes.items() if count >= WARM_UP_PASSES)


def apply_restrictions(step: Step, limits: Restrictions) -> tuple[Step | None, list[LeftOut]]:
    """The step with screening's limits applied, or None when nothing of it may be done."""
    if step.technique in limits.removed_techniques:
        reason = limits.removed_techniques[step.technique]
        return None, [LeftOut(kind="technique", name=step.technique.value, reason=reason)]
    regions = tuple(r for r in step.regions if r not in limits.excluded_regions)
    if not regions:
        return None, []
    contact = step.contact
    while contact in limits.removed_contacts:
        replacement = _INSTEAD.get(contact)
        if replacement is None or replacement == step.contact:
            return None, [
                LeftOut(
                    kind="contact",
                    name=step.contact.value,
                    reason=limits.removed_contacts[step.contact],
                )
            ]
        contact = replacement
    return reworded(step.model_copy(update={"regions": regions, "contact": contact}), step), []


def closing_regions(steps: Iterable[Step]) -> tuple[str, ...]:
    """Every region the closing's steps work, in order of first use."""
    return tuple(
        dict.fromkeys(r for step in steps if step.phase is PhaseKind.CLOSING for r in step.regions)
    )


def closing_elsewhere(
    step: Step, regions: tuple[str, ...], limits: Restrictions
) -> tuple[Step | None, list[LeftOut]]:
    """A closing step whose own regions are all left out, moved to the closing's other regions.

    The closing still needs its kind of stroke (C1): compressions, percussion and sweeps each
    go wherever the closing may still work, with the limits applied as for any step.
    """
    return apply_restrictions(step.model_copy(update={"regions": regions}), limits)


def pressure_cap(
    step: Step, atlas: Atlas, limits: Restrictions, warm_areas: frozenset[Area]
) -> PressureLevel:
    """The most this step may press: bone, neck, kidney, warm-up and screening caps.

    (X1, X3, X2, O4, X5.) An area the opening did not warm up stays at moderate pressure.
    """
    cap = PressureLevel.DEEP
    regions = [atlas.region(r) for r in step.regions]
    if any(region.area not in warm_areas for region in regions):
        cap = PressureLevel.MODERATE
    if any(region.tissue is Tissue.BONE for region in regions):
        cap = PressureLevel.FEATHER
    if any(region.area is Area.NECK for region in regions):
        cap = min(cap, NECK_PRESSURE_CAP)
    geometry = atlas.answers
    paths = [step.path] if step.path else [geometry.stroke_path(r) for r in step.regions]
    if any(region.tissue is Tissue.CAUTION for region in regions) or any(
        geometry.crossed(path, tissue=Tissue.CAUTION) for path in paths
    ):
        cap = min(cap, KIDNEY_PRESSURE_CAP)
    if "U2" in step.method_ids:
        # The small breathing muscles: firm work there can make deep breaths hurt.
        cap = min(cap, PressureLevel.MODERATE)
    if limits.max_pressure is not None:
        cap = min(cap, limits.max_pressure)
    return PressureLevel(cap)


def shape_pressure(
    step: Step,
    preference: PressureLevel,
    atlas: Atlas,
    limits: Restrictions,
    warm_areas: frozenset[Area],
    sore: frozenset[str] = frozenset(),
    start: Mapping[str, int] | None = None,
) -> Step:
    """Move the step's pressure toward the receiver's preference, keeping every cap and range.

    Regions in `sore` (sore the day after the last session) get one level less than that.
    `start` holds starting pressures learned from past sessions (planner.history): a middle
    pressing step on such regions starts at the lowest of them instead of the preference."""
    wanted = int(step.pressure)
    if step.phase in (PhaseKind.OPENING, PhaseKind.CLOSING):
        # Warm-up and closing stay easy; a receiver who wants it lighter gets it lighter.
        wanted = min(wanted, int(preference))
    elif step.technique in _PRESSING:
        wanted = wanted + int(preference) - int(PressureLevel.MODERATE)
        if start and not step.knot and start.keys() & set(step.regions):
            wanted = min(start.get(region, wanted) for region in step.regions)
    if sore.intersection(step.regions):
        wanted -= 1
    wanted = max(
        int(PressureLevel.FEATHER), min(wanted, int(pressure_cap(step, atlas, limits, warm_areas)))
    )
    contact = _contact_for(step.contact, wanted, step, atlas, limits)
    pressure = contact_info(contact).clamp(wanted)
    check_in = step.check_in or (
        pressure >= PressureLevel.MODERATE
        and any(atlas.region(r).base == UPPER_TRAPEZIUS for r in step.regions)
    )
    shaped = step.model_copy(
        update={"pressure": pressure, "contact": contact, "check_in": check_in}
    )
    return reworded(shaped, step)


def _contact_for(
    contact: Contact, wanted: int, step: Step, atlas: Atlas, limits: Restrictions
) -> Contact:
    on_neck = any(atlas.region(r).area is Area.NECK for r in step.regions)
    if step.technique not in _PRESSING or on_neck or step.side is StepSide.BOTH:
        # Neck work stays with the fingers (X3); two-handed passes stay with the palms.
        return contact
    stronger_for = _STRONGER_STILL if step.technique is Technique.STATIC_PRESSURE else _STRONGER
    while wanted > contact_info(contact).max and contact in stronger_for:
        stronger = stronger_for[contact]
        if stronger in limits.removed_contacts:
            break
        contact = stronger
    while wanted < contact_info(contact).min and contact in _SOFTER:
        contact = _SOFTER[contact]
    return contact
