"""Keeping the two sides even (B1): side totals, and the extra work that evens them out."""

from __future__ import annotations

from collections.abc import Iterable

from backrub.atlas import Area, Atlas, Side, Tissue
from backrub.method.step import Step
from backrub.method.vocabulary import (
    Contact,
    Direction,
    PhaseKind,
    PressureLevel,
    StepSide,
    Technique,
)

# Below this many seconds (or this share of the larger side) the sides count as even.
EVEN_SECONDS = 10.0
EVEN_SHARE = 0.04
MAX_EVEN_OUT_STEP = 120.0


def side_seconds(steps: Iterable[Step], atlas: Atlas) -> dict[Side, float]:
    """Seconds of work each side got; a step on both sides counts for both."""
    totals = {Side.LEFT: 0.0, Side.RIGHT: 0.0}
    for step in steps:
        sides = {atlas.region(r).side for r in step.regions} - {Side.MIDLINE}
        for side in sides:
            totals[side] += step.seconds
    return totals


def imbalance(steps: Iterable[Step], atlas: Atlas) -> tuple[Side | None, float]:
    """The lighter side and by how much, or (None, 0) when the sides are even enough."""
    totals = side_seconds(steps, atlas)
    left, right = totals[Side.LEFT], totals[Side.RIGHT]
    gap = abs(left - right)
    if gap <= max(EVEN_SECONDS, EVEN_SHARE * max(left, right)):
        return None, 0.0
    return (Side.LEFT if left < right else Side.RIGHT), gap


def even_out_steps(
    side: Side,
    seconds: float,
    *,
    worked: Iterable[Step],
    atlas: Atlas,
    blocked: set[str],
    label: str,
) -> list[Step]:
    """Gentle work on the lighter side, on the mirror of where the other side got the most."""
    heavier: dict[str, float] = {}
    for step in worked:
        for region_id in step.regions:
            region = atlas.region(region_id)
            if region.side not in (Side.MIDLINE, side):
                mirror = atlas.mirror_of(region_id)
                if mirror is not None:
                    heavier[mirror.id] = heavier.get(mirror.id, 0.0) + step.seconds
    candidates = sorted(heavier, key=lambda r: -heavier[r])
    candidates += [
        r.id
        for r in atlas.regions
        if r.side is side and r.tissue is Tissue.MUSCLE and r.area is Area.UPPER_BACK
    ]
    allowed = [
        r
        for r in dict.fromkeys(candidates)
        if r not in blocked and atlas.region(r).tissue is Tissue.MUSCLE
    ]
    if not allowed:
        return []
    steps = []
    remaining, number = seconds, 0
    while remaining >= 1 and number < len(allowed):
        region = atlas.region(allowed[number])
        chunk = min(MAX_EVEN_OUT_STEP, remaining)
        neck = region.area is Area.NECK
        steps.append(
            Step(
                id=f"{label}.{region.id}",
                phase=_PHASES[region.area],
                regions=(region.id,),
                side=StepSide(side.value),
                technique=Technique.CIRCLES,
                contact=Contact.FINGERTIPS if neck else Contact.PALMS,
                pressure=PressureLevel.LIGHT,
                seconds=round(chunk),
                min_seconds=round(chunk),
                max_seconds=round(chunk),
                direction=Direction.CIRCLES,
                cue="Same again on this side, gently, so both sides feel alike.",
                how="One side had more work; give this side easy circles for the same time "
                "so the receiver feels balanced.",
                method_ids=("B1",),
                priority=1,
            )
        )
        remaining -= chunk
        number += 1
    return steps


_PHASES = {
    Area.NECK: PhaseKind.NECK,
    Area.UPPER_BACK: PhaseKind.UPPER_BACK,
    Area.LOWER_BACK: PhaseKind.LOWER_BACK,
}
