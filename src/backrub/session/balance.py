"""Keeping the two sides even (B1): side totals, and the extra work that evens them out."""

from __future__ import annotations

from collections.abc import Iterable

from backrub.atlas import Area, Atlas, Side, Tissue
from backrub.method.ladder import PHASE_OF_AREA
from backrub.method.step import Step
from backrub.method.vocabulary import (
    Contact,
    Direction,
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


def gap(steps: Iterable[Step], atlas: Atlas) -> float:
    """How many seconds one side is ahead of the other, however small."""
    totals = side_seconds(steps, atlas)
    return abs(totals[Side.LEFT] - totals[Side.RIGHT])


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
    """Gentle work on the lighter side, first where the two sides differ the most."""
    per_side: dict[str, dict[Side, float]] = {}
    for step in worked:
        for region_id in step.regions:
            region = atlas.region(region_id)
            if region.side is not Side.MIDLINE:
                sides = per_side.setdefault(region.base, {Side.LEFT: 0.0, Side.RIGHT: 0.0})
                sides[region.side] += step.seconds
    other = Side.RIGHT if side is Side.LEFT else Side.LEFT
    gaps = {base: sides[other] - sides[side] for base, sides in per_side.items()}
    candidates = [
        f"{base}-{side.value}" for base in sorted(gaps, key=lambda b: -gaps[b]) if gaps[base] > 0
    ]
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
                phase=PHASE_OF_AREA[region.area],
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
