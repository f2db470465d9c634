"""Extra work for trouble spots: the knot ladder where deep work fits, evened out on the other side.

A trouble spot gets the ladder's rungs up to the forearm (U6), bounded (U8), then mild rubbing
(U9). The elbow is never planned: it needs the receiver's yes at the moment (U6, U7), which the
live engine asks for. Where the ladder is not fit (the neck, light pressure, screening caps), the
spot gets longer gentle circles instead. The other side gets the same time (B1).
"""

from __future__ import annotations

from backrub.atlas import Area, Atlas, Region
from backrub.method.ladder import PHASE_OF_AREA, step_from_rung, step_side
from backrub.method.routine import KnotLadder, Routine
from backrub.method.step import Step
from backrub.method.vocabulary import (
    Contact,
    Direction,
    PressureLevel,
    Technique,
)
from backrub.method.words import contact_info
from backrub.planner.shaping import pressure_cap
from backrub.safety.restrictions import Restrictions

GENTLE_SECONDS = 90
GENTLE_MIN_SECONDS = 30
GENTLE_MAX_SECONDS = 180
EVEN_OUT_CUE = "Same time on this side, gently, so both sides feel alike."


def ladder_fits(
    region: Region,
    routine: Routine,
    preference: PressureLevel,
    limits: Restrictions,
    warm_areas: frozenset[Area],
) -> KnotLadder | None:
    ladder = routine.data.knot_ladder
    if ladder is None or region.base not in ladder.regions or region.area not in warm_areas:
        return None
    if preference < PressureLevel.MODERATE:
        return None
    deepest = max(rung.pressure for rung in ladder.rung if not rung.needs_consent)
    if limits.max_pressure is not None and limits.max_pressure < deepest:
        return None
    return ladder


def ladder_block(region: Region, ladder: KnotLadder, limits: Restrictions) -> list[Step]:
    """The planned rungs (never the elbow) within the time bound, then aftercare."""
    steps: list[Step] = []
    spent = 0
    for number, rung in enumerate(ladder.rung, start=1):
        if rung.needs_consent or rung.contact in limits.removed_contacts:
            continue
        seconds = min(rung.seconds, ladder.limit_seconds - spent)
        if seconds < 15:
            break
        spent += seconds
        steps.append(
            step_from_rung(
                rung,
                step_id=f"knot.{region.id}.rung-{number}",
                region=region,
                number=number,
                seconds=seconds,
                knot=True,
            )
        )
    aftercare = ladder.aftercare
    steps.append(
        step_from_rung(
            aftercare,
            step_id=f"knot.{region.id}.aftercare",
            region=region,
            number=None,
            seconds=aftercare.seconds,
            knot=False,
        )
    )
    return steps


def gentle_block(
    region: Region,
    atlas: Atlas,
    preference: PressureLevel,
    limits: Restrictions,
    warm_areas: frozenset[Area],
) -> list[Step]:
    """Longer, gentle circles on a spot where the knot ladder is not fit."""
    contact = Contact.FINGERTIPS if region.area is Area.NECK else Contact.HEEL_OF_HAND
    draft = Step(
        id=f"focus.{region.id}",
        phase=PHASE_OF_AREA[region.area],
        regions=(region.id,),
        side=step_side(region),
        technique=Technique.CIRCLES,
        contact=contact,
        pressure=PressureLevel.LIGHT,
        seconds=GENTLE_SECONDS,
        min_seconds=GENTLE_MIN_SECONDS,
        max_seconds=GENTLE_MAX_SECONDS,
        # Paired with its evening-out step so both stretch and shrink together (B1).
        pair=f"focus.{region.base}",
        direction=Direction.CIRCLES,
        cue="Extra time here: slow circles, as firm as feels good.",
        how="Stay on the spot the receiver pointed out. Let the muscle soften under slow circles "
        "and ask how it feels now and then.",
        method_ids=("O1",),
        check_in=True,
        priority=1,
    )
    cap = pressure_cap(draft, atlas, limits, warm_areas)
    pressure = contact_info(contact).clamp(min(int(preference), int(cap)))
    return [draft.model_copy(update={"pressure": pressure})]


def even_out(block: list[Step], mirror: Region) -> list[Step]:
    """The same time on the other side, done gently, so both sides get the same work (B1)."""
    total = sum(step.seconds for step in block)
    if len(block) == 1 and block[0].pair is not None:
        # A single stretchable step: the mirror step shares its pair and so its timing.
        only = block[0]
        low, high, pair = only.min_seconds, only.max_seconds, only.pair
    else:
        low, high, pair = total, total, None
    return [
        Step(
            id=f"even.{mirror.id}",
            phase=PHASE_OF_AREA[mirror.area],
            regions=(mirror.id,),
            side=step_side(mirror),
            technique=Technique.CIRCLES,
            contact=Contact.FINGERTIPS if mirror.area is Area.NECK else Contact.PALMS,
            pressure=PressureLevel.LIGHT,
            seconds=total,
            min_seconds=low,
            max_seconds=high,
            pair=pair,
            direction=Direction.CIRCLES,
            cue=EVEN_OUT_CUE,
            how="The other side had extra work; give this side the same time with easy circles "
            "so the receiver feels balanced.",
            method_ids=("B1",),
            check_in=True,
            priority=1,
        )
    ]
