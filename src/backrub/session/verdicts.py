"""What a summary says in words, worked out from the same figures its tables show.

A person reads "the two sides got about the same time" next to the table of times, so the
statement is made from those times as shown (whole seconds), never from hidden decimals or a
looser tolerance; and a session that stopped says what it did not reach instead of nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backrub.atlas import Atlas, Side
from backrub.method.step import Step
from backrub.session.state import SessionState, SessionStatus

# Two times as shown count as about the same when they differ by at most this share of the
# larger one, or by a second (what rounding to whole seconds can make of equal times).
SAME_SHARE = 0.05
SAME_SECONDS = 1


def shown(seconds: object) -> int:
    """Seconds as the summary shows them (the pages' m:ss, the CLI's too): whole seconds."""
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        return max(0, round(float(seconds)))
    return 0


def clock(seconds: object) -> str:
    """Seconds as m:ss, the way every summary shows a time: 93.4 -> '1:33'."""
    whole = shown(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def about_the_same(first: int, second: int) -> bool:
    return abs(first - second) <= max(SAME_SECONDS, SAME_SHARE * max(first, second))


def sides(summary: Mapping[str, Any], atlas: Atlas) -> dict[str, Any]:
    """Left against right, as shown: the side totals and every pair of regions.

    A pair with a side left out (screening, pain, a headache) is not compared: the summary
    says why that side got less."""
    per_side = summary.get("per_side_seconds", {})
    left, right = shown(per_side.get(Side.LEFT.value)), shown(per_side.get(Side.RIGHT.value))
    regions = summary.get("regions", {})
    left_out = {str(item.get("region")) for item in summary.get("left_out", [])}
    uneven = []
    for region in atlas.regions:
        mirror = atlas.mirror_of(region.id)
        if region.side is not Side.LEFT or mirror is None or {region.id, mirror.id} & left_out:
            continue
        on_left = shown(regions.get(region.id, {}).get("seconds"))
        on_right = shown(regions.get(mirror.id, {}).get("seconds"))
        if not about_the_same(on_left, on_right):
            uneven.append({"base": region.base, "left": on_left, "right": on_right})
    return {
        "left": left,
        "right": right,
        "even": about_the_same(left, right),
        "uneven_pairs": uneven,
    }


def not_reached(state: SessionState, planned: list[Step]) -> dict[str, list[Any]]:
    """A session ended early (stopped, or a script left it paused): the planned phases and
    steps after the last one it worked on. Empty for a session that ran to its end."""
    if state.status not in (SessionStatus.STOPPED, SessionStatus.PAUSED):
        return {"phases": [], "steps": []}
    worked = {segment.step.id for segment in state.timeline}
    knots = {knot.region for knot in state.knots}
    if state.knot is not None:
        knots.add(state.knot.region)

    def reached(step: Step) -> bool:
        # A planned knot ladder runs live under other step ids; its region says it ran.
        return step.id in worked or (step.knot and bool(set(step.regions) & knots))

    last = max((i for i, step in enumerate(planned) if reached(step)), default=-1)
    steps = [step for step in planned[last + 1 :] if not reached(step)]
    phases_worked = {segment.step.phase for segment in state.timeline}
    phases = dict.fromkeys(step.phase.value for step in steps if step.phase not in phases_worked)
    return {
        "phases": list(phases),
        "steps": [
            {
                "step": step.id,
                "phase": step.phase.value,
                "regions": list(step.regions),
                "technique": step.technique.value,
            }
            for step in steps
        ],
    }


def sides_in_words(compared: Mapping[str, Any], atlas: Atlas) -> tuple[str, list[str]]:
    """The verdict on left against right, and a line for each pair of places that differ."""
    left, right = int(compared["left"]), int(compared["right"])
    uneven = []
    for pair in compared.get("uneven_pairs", []):
        base = str(pair["base"])
        name = atlas.region(f"{base}-left").name if atlas.has_region(f"{base}-left") else base
        uneven.append(
            f"{name.removesuffix(' (left)')}: {clock(pair['left'])} on the left, "
            f"{clock(pair['right'])} on the right"
        )
    if left == right == 0:
        verdict = "No work on either side yet."
    elif compared["even"] and not uneven:
        verdict = "The two sides got about the same time: they should feel even."
    elif compared["even"]:
        verdict = "The two sides got about the same time in all, but not place by place."
    else:
        lighter, heavier = ("left", "right") if left < right else ("right", "left")
        verdict = f"The {lighter} side got {clock(abs(left - right))} less than the {heavier} side."
    return verdict, uneven


def not_reached_in_words(found: Mapping[str, Any], atlas: Atlas) -> tuple[list[str], list[str]]:
    """The parts (phases) and the steps a stopped session did not reach, as a person reads them."""
    steps = []
    for item in found.get("steps", []):
        names: dict[str, None] = {}
        sides_of: set[Side] = set()
        for region_id in (str(r) for r in item.get("regions", [])):
            if not atlas.has_region(region_id):
                names[region_id] = None
                continue
            region = atlas.region(region_id)
            names[region.name.removesuffix(f" ({region.side.value})")] = None
            sides_of.add(region.side)
        side = {Side.LEFT, Side.RIGHT} & sides_of
        where = ", ".join(names) + (
            " (both sides)" if len(side) == 2 else f" ({side.pop().value})" if side else ""
        )
        technique = str(item.get("technique", "")).replace("-", " ")
        steps.append(f"{technique[:1].upper()}{technique[1:]}: {where}")
    phases = [str(phase).replace("-", " ") for phase in found.get("phases", [])]
    return phases, steps
