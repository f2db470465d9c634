"""The planner: a receiver's request and a routine in, a timed, balanced, safe Plan out.

Pure and deterministic: the same request gives the same plan, with no clock, randomness or I/O.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from backrub.atlas import Area, Atlas, Region, Side, Tissue, default_atlas
from backrub.errors import PlanningError, UnknownNameError
from backrub.method.ladder import PHASE_OF_AREA
from backrub.method.routine import Routine, load_routine
from backrub.method.step import Step
from backrub.method.vocabulary import PhaseKind, PressureLevel
from backrub.planner.activities import activity, focus_areas
from backrub.planner.focus import even_out, gentle_block, ladder_block, ladder_fits
from backrub.planner.plan import LeftOut, Plan, PlanStatus
from backrub.planner.request import Order, PlanRequest
from backrub.planner.shaping import (
    apply_restrictions,
    closing_elsewhere,
    closing_regions,
    shape_pressure,
    warmed_areas,
)
from backrub.planner.timing import (
    BudgetTooLong,
    drop_for_time,
    fit_durations,
    shortest_seconds,
    stretch_needed,
)
from backrub.safety.context import UPPER_TRAPEZIUS_LIMIT_SECONDS, SafetyContext
from backrub.safety.judge import judge_plan
from backrub.safety.restrictions import Restrictions
from backrub.safety.rules import UPPER_TRAPEZIUS
from backrub.safety.screening import evaluate

if TYPE_CHECKING:
    from backrub.planner.history import Lessons, SessionDigest
    from backrub.planner.lessons import Shaped

FOCUS_WEIGHT = 1.5
TROUBLE_SPOT_WEIGHT = 1.5
MAX_ROUNDS = 8
# Past this stretch of the written durations, a long session repeats the middle areas instead.
STRETCH_BEFORE_NEW_ROUND = 2.0
BUDGET_TOLERANCE = 0.02
_MIDDLE_TOP_DOWN = (PhaseKind.NECK, PhaseKind.UPPER_BACK, PhaseKind.LOWER_BACK)
_MIDDLE_ORDERS = {
    Order.TOP_DOWN: _MIDDLE_TOP_DOWN,
    Order.UPPER_LOWER_NECK: (PhaseKind.UPPER_BACK, PhaseKind.LOWER_BACK, PhaseKind.NECK),
    Order.PROBLEM_FIRST: _MIDDLE_TOP_DOWN,
}


def make_plan(
    request: PlanRequest,
    *,
    routine: Routine | None = None,
    atlas: Atlas | None = None,
    history: Sequence[SessionDigest] = (),
) -> Plan:
    """Plan one session. Bad names raise UnknownNameError; an impossible budget PlanningError.

    `history`, the digests of the receiver's past sessions, lets the plan learn from them
    (planner.history); every change it makes is listed in the plan's notes."""
    atlas = atlas or default_atlas()
    routine = routine or load_routine(request.routine)
    focus = focus_areas(request.activities)
    spots = [trouble_spot(name, atlas) for name in dict.fromkeys(request.trouble_spots)]
    screening = evaluate(request.screening, atlas)
    base = Plan(
        status=PlanStatus.READY,
        routine_id=routine.id,
        routine_title=routine.title,
        request=request,
        screening=screening,
        focus_areas=focus,
    )
    if not screening.allows_session:
        return base.model_copy(update={"status": PlanStatus.REFUSED})
    limits = screening.restrictions
    left_out = [
        LeftOut(kind="region", name=region, reason=reason)
        for region, reason in limits.excluded_regions.items()
    ]
    limited_steps: list[Step] = []
    closing = closing_regions(routine.steps)
    for step in routine.steps:
        limited, lost = apply_restrictions(step, limits)
        if limited is None and not lost and step.phase is PhaseKind.CLOSING and not step.path:
            # Every region of this closing step is left out; the closing still needs its kind of
            # stroke (C1), so it goes on the closing's other regions that are still allowed.
            limited, lost = closing_elsewhere(step, closing, limits)
        left_out.extend(item for item in lost if item not in left_out)
        if limited is not None:
            limited_steps.append(limited)
    warm = warmed_areas(limited_steps, atlas)
    sore = frozenset(region.id for region in map(atlas.region, request.sore_spots))
    learned = _learned(history, limited_steps, request, atlas, limits, warm, sore)
    if learned is None:
        steps = [
            shape_pressure(step, request.pressure, atlas, limits, warm, sore, None)
            for step in limited_steps
        ]
        history_spots: list[str] = []
    else:
        steps = learned[1].later
        history_spots = [
            item.region
            for item in learned[0].recurring_knots
            if item.region not in limits.excluded_regions
        ]
    asked = dict.fromkeys(spot.id for spot in spots)
    spots += [trouble_spot(name, atlas) for name in history_spots if name not in asked]
    spots = [spot for spot in spots if spot.id not in limits.excluded_regions]
    early = frozenset(history_spots)
    no_room_for_history = False
    try:
        timed, dropped, gentle = _fit_spots(
            steps, spots, early, request, focus, routine, atlas, limits, warm
        )
    except PlanningError:
        if all(name in asked for name in history_spots):
            raise
        # The knots that came back do not fit in today's minutes: plan what was asked for.
        early = frozenset(name for name in history_spots if name in asked)
        spots = [spot for spot in spots if spot.id in asked]
        timed, dropped, gentle = _fit_spots(
            steps, spots, early, request, focus, routine, atlas, limits, warm
        )
        no_room_for_history = True
    notes = plan_notes(request, focus, spots, routine)
    if sore:
        names = ", ".join(atlas.region(region_id).name for region_id in sorted(sore))
        notes.append(f"One level lighter on {names}: sore the day after last time.")
    if gentle:
        notes.append(
            f"No room for the knot ladder in {request.minutes:g} minutes: gentle "
            "circles on the trouble spots instead."
        )
    if no_room_for_history:
        notes.append(
            f"No room in {request.minutes:g} minutes for extra work on the knots that came back."
        )
    if learned is not None:
        from backrub.planner.lessons import history_notes

        lessons, shaped = learned
        notes += history_notes(
            lessons,
            atlas,
            shaped,
            final=timed,
            problem_first=sorted(early),
        )
    left_out.extend(
        LeftOut(kind="step", name=step.id, reason=f"no room in {request.minutes:g} minutes")
        for step in dropped
    )
    plan = base.model_copy(
        update={
            "restrictions": limits,
            "steps": tuple(timed),
            "left_out": tuple(left_out),
            "notes": tuple(notes),
        }
    )
    broken = judge_plan(plan, SafetyContext(atlas=atlas))
    if broken:
        # The planner must never produce an unsafe plan; this is a bug, not bad input.
        raise AssertionError("planner broke a rule: " + "; ".join(v.one_line() for v in broken))
    return plan


def _learned(
    history: Sequence[SessionDigest],
    steps: list[Step],
    request: PlanRequest,
    atlas: Atlas,
    limits: Restrictions,
    warm: frozenset[Area],
    sore: frozenset[str],
) -> tuple[Lessons, Shaped] | None:
    """What the past sessions teach and the steps shaped with it; None without a past.

    Without one there is nothing to learn and the steps are only shaped to the request:
    the history and lessons modules (and their classes) load only for a receiver with a past.
    """
    if not history:
        return None
    from backrub.planner.history import learn
    from backrub.planner.lessons import shape_with_lessons

    lessons = learn(history, atlas)
    shaped = shape_with_lessons(
        steps,
        lessons,
        lambda step, soft, start: shape_pressure(
            step, request.pressure, atlas, limits, warm, soft, start
        ),
        sore,
    )
    return lessons, shaped


def _fit_spots(
    steps: list[Step],
    spots: list[Region],
    early: frozenset[str],
    request: PlanRequest,
    focus: Sequence[Area],
    routine: Routine,
    atlas: Atlas,
    limits: Restrictions,
    warm: frozenset[Area],
) -> tuple[list[Step], list[Step], bool]:
    """The steps with the spots' extra work, timed to the budget: kept and dropped steps, and
    whether the spots got gentle circles because the knot ladder did not fit."""
    with_spots = add_trouble_spots(
        steps, spots, routine, request.pressure, atlas, limits, warm, early=early
    )
    try:
        timed, dropped = fit_budget(
            ordered(with_spots, request.order, focus, spots, early), request, focus, spots, atlas
        )
        return timed, dropped, False
    except PlanningError:
        if not any(step.knot for step in with_spots):
            raise
    # No room for the knot ladder: gentle circles on the spots instead, which can shrink.
    with_spots = add_trouble_spots(
        steps, spots, routine, request.pressure, atlas, limits, warm, ladder=False, early=early
    )
    timed, dropped = fit_budget(
        ordered(with_spots, request.order, focus, spots, early), request, focus, spots, atlas
    )
    return timed, dropped, True


def trouble_spot(name: str, atlas: Atlas) -> Region:
    region = atlas.region(name)
    if region.tissue is not Tissue.MUSCLE:
        nearby = ", ".join(
            sorted(
                r.id for r in atlas.regions if r.tissue is Tissue.MUSCLE and r.area is region.area
            )
        )
        raise UnknownNameError(
            f"trouble spot {name!r} is {region.tissue.value}, which is never pressed; "
            f"name a muscle region near it: {nearby}"
        )
    return region


def add_trouble_spots(
    steps: list[Step],
    spots: Sequence[Region],
    routine: Routine,
    preference: PressureLevel,
    atlas: Atlas,
    limits: Restrictions,
    warm_areas: frozenset[Area],
    *,
    ladder: bool = True,
    early: frozenset[str] = frozenset(),
) -> list[Step]:
    """Insert each spot's extra work after the routine's own step there (or at its phase's end).

    A spot in `early` (a knot that keeps coming back) gets it after the routine's first step
    there instead of its last, or at its phase's start."""
    spot_ids = {spot.id for spot in spots}
    result = list(steps)
    for spot in spots:
        fitting = ladder_fits(spot, routine, preference, limits, warm_areas) if ladder else None
        block = (
            ladder_block(spot, fitting, limits)
            if fitting
            else gentle_block(spot, atlas, preference, limits, warm_areas)
        )
        mirror = atlas.mirror_of(spot.id)
        if (
            mirror is not None
            and mirror.id not in spot_ids
            and (mirror.id not in limits.excluded_regions)
        ):
            block.extend(even_out(block, mirror))
        at = _insertion_point(result, spot, early=spot.id in early)
        result[at:at] = block
    return result


def _insertion_point(steps: Sequence[Step], spot: Region, *, early: bool = False) -> int:
    phase = PHASE_OF_AREA[spot.area]
    on_spot = [i for i, s in enumerate(steps) if s.phase is phase and spot.id in s.regions]
    if on_spot:
        index = on_spot[0 if early else -1] + 1
        # Keep a left/right pair together: the block follows the pair, not its first half.
        while (
            index < len(steps) and steps[index].pair and steps[index].pair == steps[index - 1].pair
        ):
            index += 1
        return index
    in_phase = [i for i, s in enumerate(steps) if s.phase is phase]
    if in_phase:
        return in_phase[0] if early else in_phase[-1] + 1
    closing = [i for i, s in enumerate(steps) if s.phase is PhaseKind.CLOSING]
    return closing[0] if closing else len(steps)


def middle_order(
    order: Order,
    focus: Sequence[Area],
    spots: Sequence[Region],
    early: frozenset[str] = frozenset(),
) -> list[PhaseKind]:
    kinds = list(_MIDDLE_ORDERS[order])
    if order is Order.PROBLEM_FIRST:
        # Areas with trouble spots first (most spots first), then focus areas, then the rest.
        score: dict[PhaseKind, int] = defaultdict(int)
        for spot in spots:
            score[PHASE_OF_AREA[spot.area]] += 10
        for area in focus:
            score[PHASE_OF_AREA[area]] += 1
        kinds.sort(key=lambda kind: -score[kind])
    # Areas with a knot that keeps coming back go first whatever the order (problem-first for
    # those spots), most such spots first; the rest keep the requested order.
    first: dict[PhaseKind, int] = defaultdict(int)
    for spot in spots:
        if spot.id in early:
            first[PHASE_OF_AREA[spot.area]] += 1
    kinds.sort(key=lambda kind: -first[kind])
    return kinds


def ordered(
    steps: Sequence[Step],
    order: Order,
    focus: Sequence[Area],
    spots: Sequence[Region],
    early: frozenset[str] = frozenset(),
) -> list[Step]:
    """Opening first, closing last, the middle areas in the requested order (B2)."""
    sequence = [PhaseKind.OPENING, *middle_order(order, focus, spots, early), PhaseKind.CLOSING]
    return [step for kind in sequence for step in steps if step.phase is kind]


def fit_budget(
    steps: list[Step],
    request: PlanRequest,
    focus: Sequence[Area],
    spots: Sequence[Region],
    atlas: Atlas,
) -> tuple[list[Step], list[Step]]:
    budget = float(request.budget_seconds)
    spot_bases = {spot.base for spot in spots}
    focus_phases = {PHASE_OF_AREA[area] for area in focus}

    def weight(step: Step) -> float:
        value = FOCUS_WEIGHT if step.phase in focus_phases else 1.0
        if any(atlas.region(r).base in spot_bases for r in step.regions):
            value *= TROUBLE_SPOT_WEIGHT
        return value

    # Where each step first stands (by identity: comparing pydantic steps field by field to find
    # them again made this quadratic).
    position: dict[int, int] = {}
    for index, step in enumerate(steps):
        position.setdefault(id(step), index)

    def importance(step: Step) -> tuple[int, ...]:
        return (-step.priority, int(step.phase in focus_phases), -position[id(step)])

    kept, dropped = drop_for_time(steps, budget, importance)
    if shortest_seconds(kept) > budget * (1 + BUDGET_TOLERANCE):
        need = math.ceil(shortest_seconds(kept) / 60)
        raise PlanningError(
            f"{request.minutes:g} minutes is too short: the warm-up, the closing and the "
            f"essential steps for this request need at least {need} minutes"
        )
    for rounds in range(1, MAX_ROUNDS + 1):
        candidate = limit_upper_trapezius(with_rounds(kept, rounds), atlas)
        try:
            stretch = stretch_needed(candidate, budget, weight)
        except BudgetTooLong as error:
            if rounds == MAX_ROUNDS:
                raise PlanningError(
                    f"{request.minutes:g} minutes is more than this routine can fill; "
                    f"at most {math.floor(error.longest / 6) / 10:.1f} minutes"
                ) from None
            continue
        if stretch > STRETCH_BEFORE_NEW_ROUND and rounds < MAX_ROUNDS:
            continue
        # Timed only once the number of rounds is settled: copying the steps is the dear part.
        timed, _ = fit_durations(candidate, budget, weight)
        total = sum(step.seconds for step in timed)
        if abs(total - budget) > BUDGET_TOLERANCE * budget:
            raise PlanningError(
                f"cannot fit the steps into {request.minutes:g} minutes (closest: "
                f"{total / 60:.1f} minutes)"
            )
        return timed, dropped
    raise AssertionError("unreachable")


def with_rounds(steps: Sequence[Step], rounds: int) -> list[Step]:
    """Long sessions repeat the middle areas' stretchable steps: round 2, 3... after round 1."""
    opening = [s for s in steps if s.phase is PhaseKind.OPENING]
    middle = [s for s in steps if s.phase not in (PhaseKind.OPENING, PhaseKind.CLOSING)]
    closing = [s for s in steps if s.phase is PhaseKind.CLOSING]
    repeats: list[Step] = []
    for number in range(2, rounds + 1):
        for step in middle:
            stretchable = step.max_seconds is None or step.max_seconds > step.min_seconds
            if not stretchable or step.knot:
                continue
            repeats.append(
                step.model_copy(
                    update={
                        "id": f"{step.id}@{number}",
                        "pair": f"{step.pair}@{number}" if step.pair else None,
                        "cue": f"Round {number}: {step.cue}",
                        "priority": 3,
                    }
                )
            )
    return [*opening, *middle, *repeats, *closing]


def limit_upper_trapezius(steps: Sequence[Step], atlas: Atlas) -> list[Step]:
    """Cap the stretch of firm upper-trapezius steps so one side never gets overworked (U4)."""
    fixed: dict[Side, float] = defaultdict(float)
    stretchable: dict[Side, int] = defaultdict(int)

    def sides_on_trapezius(step: Step) -> list[Side]:
        if step.pressure < PressureLevel.MODERATE:
            return []
        return [
            atlas.region(r).side for r in step.regions if atlas.region(r).base == UPPER_TRAPEZIUS
        ]

    for step in steps:
        for side in sides_on_trapezius(step):
            if step.max_seconds is not None and step.max_seconds <= step.min_seconds:
                fixed[side] += step.seconds
            else:
                stretchable[side] += 1
    result = []
    for step in steps:
        sides = sides_on_trapezius(step)
        if sides and not (step.max_seconds is not None and step.max_seconds <= step.min_seconds):
            room = min((UPPER_TRAPEZIUS_LIMIT_SECONDS - fixed[s]) / stretchable[s] for s in sides)
            high = min(step.max_seconds or step.seconds, math.floor(room))
            low = min(step.min_seconds, high)
            step = step.model_copy(
                update={"max_seconds": high, "min_seconds": low, "seconds": min(step.seconds, high)}
            )
        result.append(step)
    return result


def plan_notes(
    request: PlanRequest, focus: Sequence[Area], spots: Sequence[Region], routine: Routine
) -> list[str]:
    notes = []
    for area in focus:
        reasons = [
            activity(name).label.lower()
            for name in request.activities
            if activity(name).area is area
        ]
        notes.append(f"More time on the {area.value.replace('-', ' ')}: {', '.join(reasons)}.")
    for spot in spots:
        notes.append(
            f"Trouble spot {spot.name}: extra work there, the same time on the other side."
        )
    if routine.data.knot_ladder is not None:
        notes.append("The elbow is never planned: the guide asks the receiver first (U6, U7).")
    notes.append(f"Order: {request.order.value} (B2).")
    return notes
