"""Keeping the two sides even (B1): side totals, and the extra work that evens them out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from backrub.atlas import Area, Atlas, Region, Side, Tissue
from backrub.method.ladder import PHASE_OF_AREA
from backrub.method.step import Step
from backrub.method.vocabulary import (
    Contact,
    Direction,
    PressureLevel,
    StepSide,
    Technique,
)
from backrub.safety.context import SafetyContext
from backrub.safety.rules import UPPER_TRAPEZIUS, SidesBalanced

# Below this many seconds (or this share of the larger side) the sides count as even.
EVEN_SECONDS = 10.0
EVEN_SHARE = 0.04
MAX_EVEN_OUT_STEP = 120.0
# Why a region is left out once the receiver cut its evening-out short.
CUT_SHORT = "the receiver cut short evening it out"


def side_seconds(steps: Iterable[Step], atlas: Atlas) -> dict[Side, float]:
    """Seconds of work each side got; a step on both sides counts for both."""
    totals = {Side.LEFT: 0.0, Side.RIGHT: 0.0}
    for step in steps:
        sides = {atlas.region(r).side for r in step.regions} - {Side.MIDLINE}
        for side in sides:
            totals[side] += step.seconds
    return totals


# Seconds of work per paired region (its base id): [left, right].
SideTotals = dict[str, list[float]]


def owed_by_region(steps: Sequence[Step], context: SafetyContext) -> dict[str, float]:
    """Seconds each region is owed to match its own mirror, for every pair the B1 rule judges.

    Pairs with a side left out (and the upper trapezius after a headache) are not judged, so
    nothing is owed there. A gap is owed once it reaches half of what B1 allows, so whatever
    the rest of the session adds by rounding, the finished session keeps the rule.
    """
    totals: SideTotals = {}
    add_side_seconds(totals, steps, context.atlas)
    return owed_from_totals(totals, context)


def add_side_seconds(totals: SideTotals, steps: Iterable[Step], atlas: Atlas) -> None:
    """Add the steps' seconds to their regions' pairs, step by step in order.

    The same sums as `safety.rules.side_seconds` (which B1 judges by), added in the same order
    so they come out to the same bits (a live session keeps the same sums flat, for the steps
    done adding only the new ones: `add_work_flat`).
    """
    add_work_seconds(totals, ((step.regions, step.seconds) for step in steps), atlas)


def add_work_seconds(
    totals: SideTotals, work: Iterable[tuple[tuple[str, ...], float]], atlas: Atlas
) -> None:
    """`add_side_seconds` for work given as (regions, seconds), in order: what is still to
    come is summed this way without making a step of each part of it."""
    paired = _paired
    for regions, seconds in work:
        for base, side in paired(regions, atlas):
            sides = totals.get(base)
            if sides is None:
                sides = totals[base] = [0.0, 0.0]
            sides[side] += seconds


@lru_cache(maxsize=1024)
def _paired(regions: tuple[str, ...], atlas: Atlas) -> tuple[tuple[str, int], ...]:
    """(base, 0 for left or 1 for right) of each region of a step, midline ones left out:
    a session asks this of the same few region tuples again and again."""
    found = (atlas.region(region_id) for region_id in regions)
    return tuple(
        (region.base, 0 if region.side is Side.LEFT else 1)
        for region in found
        if region.side is not Side.MIDLINE
    )


class SideSlots(dict[tuple[str, ...], tuple[int, ...]]):
    """Side totals kept flat: two places per paired base of the atlas (left, then right, the
    bases in sorted order), and each region tuple's places, found the first time it is asked.

    A live session sums everything still to come at every re-plan (`add_work_flat`): one
    look-up per step and one addition per place, in the order `add_work_seconds` adds them,
    so the totals come out to the same bits."""

    def __init__(self, atlas: Atlas) -> None:
        super().__init__()
        self.atlas = atlas
        self.bases = sorted({r.base for r in atlas.regions if r.side is not Side.MIDLINE})
        self.first = {base: 2 * index for index, base in enumerate(self.bases)}

    def __missing__(self, regions: tuple[str, ...]) -> tuple[int, ...]:
        places = tuple(self.first[base] + side for base, side in _paired(regions, self.atlas))
        self[regions] = places
        return places

    def empty(self) -> list[float]:
        return [0.0] * (2 * len(self.bases))

    def totals(self, flat: list[float]) -> dict[str, tuple[float, float]]:
        """The flat totals by base, as `owed_from_totals` reads them (a base with no work
        on either side owes nothing, as a base not listed)."""
        return dict(zip(self.bases, zip(flat[0::2], flat[1::2], strict=True), strict=True))


@lru_cache(maxsize=8)
def side_slots(atlas: Atlas) -> SideSlots:
    return SideSlots(atlas)


def add_work_flat(
    flat: list[float], work: Iterable[tuple[tuple[str, ...], float]], slots: SideSlots
) -> None:
    """`add_work_seconds` into totals kept flat (see `SideSlots`)."""
    for regions, seconds in work:
        for place in slots[regions]:
            flat[place] += seconds


def owed_from_totals(
    totals: Mapping[str, Sequence[float]], context: SafetyContext
) -> dict[str, float]:
    """`owed_by_region` from side totals already summed (see `add_side_seconds`)."""
    excluded = context.restrictions.excluded_regions
    owed: dict[str, float] = {}
    for base in sorted(totals):
        left, right = totals[base]
        gap = abs(left - right)
        if gap < 1.0:
            continue  # owed nothing whatever B1 allows (asked of every pair at each re-plan)
        # The pairs B1 judges, as `safety.rules.side_seconds` keeps them.
        if f"{base}-left" in excluded or f"{base}-right" in excluded:
            continue
        if context.upper_trapezius_stopped and base == UPPER_TRAPEZIUS:
            continue
        if not context.atlas.has_region(f"{base}-left"):
            continue
        if gap >= max(1.0, SidesBalanced.allowance(left, right, context) / 2):
            lighter = Side.LEFT if left < right else Side.RIGHT
            owed[f"{base}-{lighter.value}"] = gap
    return owed


def even_out_steps(
    owed: Mapping[str, float], seconds: float, *, atlas: Atlas, label: str
) -> list[Step]:
    """Gentle work that pays each region what it is owed, on that region itself (B1).

    The largest debts first, within `seconds` in all; a debt longer than one step's cap is
    paid in several steps on the same region, never spilled onto a neighbour.
    """
    steps: list[Step] = []
    left = seconds
    for region_id in sorted(owed, key=lambda r: (-owed[r], r)):
        region = atlas.region(region_id)
        if region.tissue is not Tissue.MUSCLE:
            continue
        debt = min(owed[region_id], left)
        part = 1
        while round(debt) >= 1:
            chunk = float(round(min(MAX_EVEN_OUT_STEP, debt)))
            suffix = "" if part == 1 else f".{part}"
            steps.append(_even_out_step(region, chunk, step_id=f"{label}.{region.id}{suffix}"))
            debt -= chunk
            left -= chunk
            part += 1
    return steps


def partner_kept(
    queue: Sequence[Step], skipped: Step, planned: Sequence[Step]
) -> tuple[Step, Step] | None:
    """The other half of a skipped step, raised back to its planned minimum if it fell below.

    Returns (the queued half, the same half with its minimum time), or None when there is
    nothing to raise. The skipped half is then owed the difference, evened out later.
    """
    if skipped.pair is None:
        return None
    partner = next((s for s in queue if s.pair == skipped.pair), None)
    if partner is None:
        return None
    own = next((s for s in planned if s.id == partner.id), None)
    least = own.min_seconds if own is not None else 0.0
    if partner.seconds >= least:
        return None
    kept = partner.model_copy(
        update={"seconds": least, "min_seconds": least, "max_seconds": least, "priority": 1}
    )
    return partner, kept


def is_even_out(step: Step) -> bool:
    """A step the engine added to even out the sides (not one the plan itself holds)."""
    return step.id.startswith("even-")


def _even_out_step(region: Region, seconds: float, *, step_id: str) -> Step:
    neck = region.area is Area.NECK
    return Step(
        id=step_id,
        phase=PHASE_OF_AREA[region.area],
        regions=(region.id,),
        side=StepSide(region.side.value),
        technique=Technique.CIRCLES,
        contact=Contact.FINGERTIPS if neck else Contact.PALMS,
        pressure=PressureLevel.LIGHT,
        seconds=seconds,
        min_seconds=seconds,
        max_seconds=seconds,
        direction=Direction.CIRCLES,
        cue="Same again on this side, gently, so both sides feel alike.",
        how="The other side had more work here; give this side easy circles for the same time "
        "so the receiver feels balanced.",
        method_ids=("B1",),
        priority=1,
    )
