"""Steps made from the knot ladder's rungs, and the phase each area of the back belongs to.

The planner (planned ladders on trouble spots) and the live engine (reported knots) both build
ladder steps; this is the one place that knows how.
"""

from __future__ import annotations

from backrub.atlas import Area, Region, Side
from backrub.method.routine import LadderRung
from backrub.method.step import Step
from backrub.method.vocabulary import Direction, PhaseKind, PressureLevel, StepSide

PHASE_OF_AREA = {
    Area.NECK: PhaseKind.NECK,
    Area.UPPER_BACK: PhaseKind.UPPER_BACK,
    Area.LOWER_BACK: PhaseKind.LOWER_BACK,
}


def step_side(region: Region) -> StepSide:
    return StepSide.MIDLINE if region.side is Side.MIDLINE else StepSide(region.side.value)


def step_from_rung(
    rung: LadderRung,
    *,
    step_id: str,
    region: Region,
    seconds: float,
    knot: bool,
    number: int | None,
    consent: bool = False,
) -> Step:
    """A fixed-length step of one rung (or the aftercare) on one region, with a check-in."""
    return Step(
        id=step_id,
        phase=PHASE_OF_AREA[region.area],
        regions=(region.id,),
        side=step_side(region),
        technique=rung.technique,
        contact=rung.contact,
        pressure=PressureLevel(rung.pressure),
        seconds=seconds,
        min_seconds=seconds,
        max_seconds=seconds,
        direction=Direction.CIRCLES,
        cue=rung.cue,
        how=rung.how,
        method_ids=tuple(rung.ids),
        check_in=True,
        knot=knot,
        ladder_rung=number,
        consent=consent,
        priority=1,
    )
