"""Steps of the knot ladder (U5-U9): the rungs, the aftercare, and gentle work where it is unfit."""

from __future__ import annotations

from backrub.atlas import Area, Region, Side
from backrub.method.routine import KnotLadder, LadderRung
from backrub.method.step import Step
from backrub.method.vocabulary import (
    Contact,
    Direction,
    PhaseKind,
    PressureLevel,
    StepSide,
    Technique,
)

# Each rung gets about 30-60 s (U6); aftercare 30-60 s (U9).
RUNG_SECONDS = 60.0
AFTERCARE_SECONDS = 45.0
GENTLE_KNOT_SECONDS = 60.0

PHASE_OF_AREA = {
    Area.NECK: PhaseKind.NECK,
    Area.UPPER_BACK: PhaseKind.UPPER_BACK,
    Area.LOWER_BACK: PhaseKind.LOWER_BACK,
}


def _side(region: Region) -> StepSide:
    return StepSide.MIDLINE if region.side is Side.MIDLINE else StepSide(region.side.value)


def _from_rung(
    rung: LadderRung,
    *,
    step_id: str,
    region: Region,
    seconds: float,
    knot: bool,
    number: int | None,
    consent: bool = False,
) -> Step:
    return Step(
        id=step_id,
        phase=PHASE_OF_AREA[region.area],
        regions=(region.id,),
        side=_side(region),
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


def rung_step(
    ladder: KnotLadder,
    rung: int,
    *,
    region: Region,
    knot_number: int,
    seconds: float,
    consent: bool,
) -> Step:
    return _from_rung(
        ladder.rung[rung],
        step_id=f"knot-{knot_number}.{region.id}.rung-{rung + 1}",
        region=region,
        seconds=seconds,
        knot=True,
        number=rung + 1,
        consent=consent,
    )


def aftercare_step(ladder: KnotLadder, *, region: Region, knot_number: int) -> Step:
    return _from_rung(
        ladder.aftercare,
        step_id=f"knot-{knot_number}.{region.id}.aftercare",
        region=region,
        seconds=AFTERCARE_SECONDS,
        knot=False,
        number=None,
    )


def gentle_knot_step(region: Region, *, knot_number: int, pressure: PressureLevel) -> Step:
    """A knot where deep work is not fit (the neck, the ribs, near the kidneys): slow circles."""
    return Step(
        id=f"knot-{knot_number}.{region.id}.gentle",
        phase=PHASE_OF_AREA[region.area],
        regions=(region.id,),
        side=_side(region),
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
