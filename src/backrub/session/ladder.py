"""Steps of the knot ladder (U5-U9): the rungs, the aftercare, and gentle work where it is unfit."""

from __future__ import annotations

from backrub.atlas import Area, Region
from backrub.method.ladder import PHASE_OF_AREA, step_from_rung, step_side
from backrub.method.routine import KnotLadder
from backrub.method.step import Step
from backrub.method.vocabulary import (
    Contact,
    Direction,
    PressureLevel,
    Technique,
)

# Aftercare lasts 30-60 s (U9); the routine's own aftercare time is what a live ladder uses.
AFTERCARE_SECONDS = 45.0
GENTLE_KNOT_SECONDS = 60.0


def rung_seconds(ladder: KnotLadder, rung: int, *, left: float) -> float:
    """The routine's own time for this rung (U6), within what is left of the knot's bound (U8).

    The planner times its ladders the same way, so a live knot with no feedback climbs heel,
    knuckles, forearm just as a planned one does.
    """
    return min(float(ladder.rung[rung].seconds), left)


def rung_step(
    ladder: KnotLadder,
    rung: int,
    *,
    region: Region,
    knot_number: int,
    seconds: float,
    consent: bool,
) -> Step:
    return step_from_rung(
        ladder.rung[rung],
        step_id=f"knot-{knot_number}.{region.id}.rung-{rung + 1}",
        region=region,
        seconds=seconds,
        knot=True,
        number=rung + 1,
        consent=consent,
    )


def aftercare_step(ladder: KnotLadder, *, region: Region, knot_number: int) -> Step:
    return step_from_rung(
        ladder.aftercare,
        step_id=f"knot-{knot_number}.{region.id}.aftercare",
        region=region,
        seconds=float(ladder.aftercare.seconds),
        knot=False,
        number=None,
    )


def gentle_knot_step(region: Region, *, knot_number: int, pressure: PressureLevel) -> Step:
    """A knot where deep work is not fit (the neck, the ribs, near the kidneys): slow circles."""
    return Step(
        id=f"knot-{knot_number}.{region.id}.gentle",
        phase=PHASE_OF_AREA[region.area],
        regions=(region.id,),
        side=step_side(region),
        technique=Technique.CIRCLES,
        contact=Contact.FINGERTIPS if region.area is Area.NECK else Contact.PALMS,
        pressure=pressure,
        seconds=GENTLE_KNOT_SECONDS,
        min_seconds=GENTLE_KNOT_SECONDS,
        max_seconds=GENTLE_KNOT_SECONDS,
        direction=Direction.CIRCLES,
        cue="Slow, gentle circles on the tight spot; no deep pressure here.",
        how="This area is not for deep knot work. Circle slowly and lightly and let the "
        "warmth do the work.",
        method_ids=("X3", "U5"),
        check_in=True,
        priority=1,
    )
