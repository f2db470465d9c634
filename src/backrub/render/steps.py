"""A plan on the map: numbered step markers and arrows showing which way each stroke travels."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

from backrub.atlas import Atlas
from backrub.atlas.model import Point
from backrub.method.step import Step
from backrub.method.vocabulary import Direction, Technique
from backrub.render.frame import FrameMapping
from backrub.render.markup import AttributeValue, element, group, number, polyline_data, title
from backrub.render.palette import ARROW, ARROWHEAD

MARKER_RADIUS = 10.0
MARKER_FONT = 12.0
# Circles and holds ring the step's number disc rather than hide under it.
_CIRCLE_RADIUS = 15.0
_HOLD_RADIUS = 13.0
_COIL_PITCH = 12.0
_COIL_RADIUS = 4.5


def oriented(path: Sequence[Point], direction: Direction) -> tuple[Point, ...]:
    """The path in the order the hands travel for `direction`.

    Atlas paths run the way strokes usually go, which is not always down or outward (the
    latissimus line runs up and out), so the path is turned by comparing its two ends along the
    asked axis. A path with no travel along that axis keeps the atlas convention: as written
    for down and outward, reversed for up and inward."""
    points = tuple(path)
    (start_x, start_y), (end_x, end_y) = points[0], points[-1]
    if direction in (Direction.DOWN, Direction.UP):
        travel = end_y - start_y
        wanted = 1.0 if direction is Direction.DOWN else -1.0
    elif direction in (Direction.OUTWARD, Direction.INWARD):
        travel = abs(end_x) - abs(start_x)
        wanted = 1.0 if direction is Direction.OUTWARD else -1.0
    else:
        return points
    if abs(travel) < 1e-9:
        travel = 1.0
    return points if travel * wanted > 0 else tuple(reversed(points))


def _stroke_paths(atlas: Atlas, step: Step) -> list[tuple[Point, ...]]:
    if step.path is not None:
        return [step.path]
    return [atlas.geometry.stroke_path(region_id) for region_id in step.regions]


def _spots(atlas: Atlas, step: Step) -> list[Point]:
    # Circles and holds are shown where the hands rest: the middle of a custom path, else
    # the middle of each region.
    if step.path is not None:
        return [step.path[len(step.path) // 2]]
    return [atlas.geometry.centroid(region_id) for region_id in step.regions]


def _arrow(data: str, step: Step, extra_class: str = "") -> list[str]:
    # A pale halo under the arrow keeps it readable over any fill, bone hatch included.
    halo = element(
        "path",
        {
            "d": data,
            "class": "stroke-halo",
            "fill": "none",
            "stroke": "#ffffff",
            "stroke-width": 5,
            "stroke-opacity": 0.8,
            "stroke-linecap": "round",
            "stroke-linejoin": "round",
        },
    )
    arrow = element(
        "path",
        {
            "d": data,
            "class": f"stroke-arrow{extra_class}",
            "data-step": step.id,
            "data-direction": step.direction.value,
            "fill": "none",
            "stroke": ARROW,
            "stroke-width": 2.4,
            "stroke-linecap": "round",
            "stroke-linejoin": "round",
            "marker-end": f"url(#{ARROWHEAD})",
        },
    )
    return [halo, arrow]


def coil_data(points: Sequence[Point]) -> str:
    """Path data for a run of small loops along a pixel polyline: circles made while travelling.

    The loops shrink to nothing at both ends, so the line starts and ends exactly on the path
    and the arrowhead points the way the hands travel."""
    segments = [(a, b, math.dist(a, b)) for a, b in pairwise(points) if math.dist(a, b) > 0]
    total = sum(length for _, _, length in segments)
    if total < 2 * _COIL_PITCH:
        return polyline_data(points)
    samples: list[Point] = []
    count = max(2, math.ceil(total / 1.5))
    segment, walked = 0, 0.0
    for index in range(count + 1):
        distance = total * index / count
        while segment < len(segments) - 1 and distance > walked + segments[segment][2]:
            walked += segments[segment][2]
            segment += 1
        (ax, ay), (bx, by), length = segments[segment]
        share = min(1.0, (distance - walked) / length)
        ux, uy = (bx - ax) / length, (by - ay) / length
        radius = _COIL_RADIUS * min(1.0, distance / _COIL_PITCH, (total - distance) / _COIL_PITCH)
        turn = 2 * math.pi * distance / _COIL_PITCH
        along, across = radius * math.sin(turn), radius * (1 - math.cos(turn))
        samples.append(
            (
                ax + share * (bx - ax) + along * ux - across * uy,
                ay + share * (by - ay) + along * uy + across * ux,
            )
        )
    return polyline_data(samples)


def circle_arrow_data(centre: Point, *, radius: float = _CIRCLE_RADIUS) -> str:
    """Three quarters of a turn, clockwise as the giver sees it; the arrowhead marks the end."""
    x, y = centre
    r = radius
    return (
        f"M{number(x)} {number(y - r)} A{number(r)} {number(r)} 0 1 1 {number(x - r)} {number(y)}"
    )


def hold_mark(centre: Point, *, radius: float = _HOLD_RADIUS, step: Step | None = None) -> str:
    """A dashed ring with a dot: the hands stay where they are. Without a step it is the
    legend's sample, kept out of the `stroke-hold` class so it is not counted as part of a plan."""
    x, y = centre
    marks: dict[str, AttributeValue] = (
        {"class": "legend-swatch"}
        if step is None
        else {"class": "stroke-hold", "data-step": step.id}
    )
    return group(
        marks,
        [
            element(
                "circle",
                {
                    "cx": x,
                    "cy": y,
                    "r": radius,
                    "fill": "none",
                    "stroke": ARROW,
                    "stroke-width": 1.6,
                    "stroke-dasharray": "3 2",
                },
            ),
            element("circle", {"cx": x, "cy": y, "r": 3.0, "fill": ARROW}),
        ],
    )


def step_strokes(atlas: Atlas, steps: Sequence[Step], frame: FrameMapping) -> list[str]:
    """Arrows (and hold marks for still steps) for every step, in plan order."""
    parts: list[str] = []
    for step in steps:
        if step.direction is Direction.STILL:
            parts += [hold_mark(frame.px(spot), step=step) for spot in _spots(atlas, step)]
        elif step.direction is Direction.CIRCLES:
            for spot in _spots(atlas, step):
                parts += _arrow(circle_arrow_data(frame.px(spot)), step, " stroke-circles")
        else:
            # Circles worked along a line are drawn as loops travelling that way.
            circling = step.technique is Technique.CIRCLES
            for path in _stroke_paths(atlas, step):
                pixels = [frame.px(point) for point in oriented(path, step.direction)]
                if circling:
                    parts += _arrow(coil_data(pixels), step, " stroke-circles")
                else:
                    parts += _arrow(polyline_data(pixels), step)
    return parts


def _free_spot(wanted: Point, taken: list[Point], clearance: float) -> Point:
    """The wanted spot, or the nearest one around it (ring by ring) that keeps `clearance` from
    every earlier marker, so no two numbers ever cover each other."""
    ring = 0
    while True:
        count = 1 if ring == 0 else 6 * ring
        for index in range(count):
            angle = 2 * math.pi * index / count - math.pi / 2
            spot = (
                wanted[0] + ring * clearance * math.cos(angle),
                wanted[1] + ring * clearance * math.sin(angle),
            )
            if all(math.dist(spot, other) >= clearance for other in taken):
                return spot
        ring += 1  # ring n holds 6n spots, so ring len(taken) + 1 always has a free one


def _marker_spot(atlas: Atlas, step: Step) -> Point:
    if step.regions:
        return atlas.geometry.centroid(step.regions[0])
    if step.path:
        return step.path[len(step.path) // 2]
    raise ValueError(f"step {step.id!r} names no region and no path, so it has no place on the map")


def _describe(step: Step, atlas: Atlas) -> str:
    regions = ", ".join(atlas.region(region_id).name for region_id in step.regions)
    return (
        f"Step {step.id}: {step.technique.value} with {step.contact.value}, "
        f"pressure {int(step.pressure)}, {step.direction.value}, {step.seconds:g} s - {regions}"
    )


def step_markers(
    atlas: Atlas, steps: Sequence[Step], frame: FrameMapping, *, scale: float = 1.0
) -> list[str]:
    """A numbered disc per step at the middle of its first region, nudged off earlier discs.
    `scale` enlarges discs and numbers together (a map shown smaller than drawn)."""
    taken: list[Point] = []
    markers: list[str] = []
    font_size = MARKER_FONT * scale
    radius = MARKER_RADIUS * scale
    for number_in_plan, step in enumerate(steps, start=1):
        x, y = _free_spot(frame.px(_marker_spot(atlas, step)), taken, 2 * radius + 2)
        taken.append((x, y))
        digits = len(str(number_in_plan))
        markers.append(
            group(
                {"class": "step-marker", "data-step": step.id},
                [
                    title(_describe(step, atlas)),
                    element(
                        "circle",
                        {
                            "cx": x,
                            "cy": y,
                            "r": radius,
                            "fill": "#ffffff",
                            "stroke": ARROW,
                            "stroke-width": 1.8,
                        },
                    ),
                    element(
                        "text",
                        {
                            "x": x,
                            "y": y + font_size * 0.36,
                            "text-anchor": "middle",
                            "font-size": font_size if digits < 3 else font_size * 0.75,
                            "font-weight": "bold",
                            "fill": ARROW,
                        },
                        text=str(number_in_plan),
                    ),
                ],
            )
        )
    return markers
