"""The live page's map: the whole back drawn once, and the current step's part drawn over it.

A step change then costs only the step's part (its stroke arrows, the knots waiting, and the
giver's hand, forearm or elbow at the spot): a few hundred bytes instead of the whole map. The
hand comes twice, one moving along the stroke (SVG animateMotion) and one still at the stroke's
start; the page's style shows the still one when `prefers-reduced-motion: reduce` is asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from backrub.atlas import Atlas, BodyFit
from backrub.atlas.model import Point
from backrub.method.step import Step
from backrub.method.vocabulary import Direction, Technique
from backrub.render.frame import FrameMapping
from backrub.render.hands import contact_shape
from backrub.render.markup import element, group, number, polyline_data
from backrub.render.steps import (
    _spots,
    _stroke_paths,
    circle_arrow_data,
    coil_data,
    oriented,
    step_strokes,
)
from backrub.render.svg import _waiting_knots, map_frame, render_back_map

MAP_WIDTH = 480  # the SVG scales to its box; this sets the proportions of text and strokes
# A 360 px phone shows a page's map 293 to 335 px wide (a tap map in its form, the least):
# every word and step number is drawn this much larger, so none renders under 12 px (issue 11).
NARROWEST_SHOWN = 290
TEXT_SCALE = MAP_WIDTH / NARROWEST_SHOWN
HAND_LIFE = 0.45  # drawn smaller than life, so the lit region stays visible around the hand
# Only the hand and a little of the arm: the whole sleeve would cover half the back.
_CLIP_CM = (-10.0, -14.0, 28.0, 24.0)  # x, y, width, height around the contact point
_SECONDS = {"line": 3.0, "coil": 5.0, "circle": 2.5}


class Motion(NamedTuple):
    """One stroke for a hand: its path data in map pixels, where it starts, how long a pass is."""

    data: str | None  # None: the hands stay still
    start: Point
    seconds: float


def live_map(atlas: Atlas, step: Step | None, waiting_knots: Iterable[str] = ()) -> str:
    """The whole map for the live page: the step's regions lit, its stroke, and the hand."""
    waiting = tuple(waiting_knots)
    whole = render_back_map(
        atlas,
        steps=[step] if step is not None else [],
        highlight=step.regions if step is not None else (),
        labels=False,
        width_px=MAP_WIDTH,
        markers=False,
        waiting_knots=waiting,
        text_scale=TEXT_SCALE,
    )
    if step is None:
        return whole
    # The hand goes on top of everything, as the last thing drawn.
    closing = "</svg>\n"
    assert whole.endswith(closing)
    return whole[: -len(closing)] + _hand(atlas, step) + "\n" + closing


def step_overlay(atlas: Atlas, step: Step | None, waiting_knots: Iterable[str] = ()) -> str:
    """The step's part alone, as a small SVG for the page to lay over the whole map it has."""
    frame = _frame(atlas)
    strokes = step_strokes(atlas, [step], frame) if step is not None else []
    parts = [
        # Always there, even empty: the page replaces each by its class.
        group({"class": "plan-strokes"}, strokes) or element("g", {"class": "plan-strokes"}),
        _waiting_knots(atlas, frame, waiting_knots)
        or element("g", {"class": "waiting-knots", "pointer-events": "none"}),
        _hand(atlas, step) if step is not None else element("g", {"class": "live-hand"}),
    ]
    root = {"xmlns": "http://www.w3.org/2000/svg", "data-step": step.id if step else None}
    return element("svg", root, "\n" + "\n".join(parts) + "\n") + "\n"


def _frame(atlas: Atlas) -> FrameMapping:
    return map_frame(atlas, width_px=MAP_WIDTH, labels=False, title=None, text_scale=TEXT_SCALE)


def motions(atlas: Atlas, step: Step, frame: FrameMapping) -> list[Motion]:
    """Where the hands travel, the same paths as the step's arrows on the map."""
    if step.direction is Direction.STILL:
        return [Motion(None, frame.px(spot), 0.0) for spot in _spots(atlas, step)]
    if step.direction is Direction.CIRCLES:
        found = []
        for spot in _spots(atlas, step):
            x, y = frame.px(spot)
            found.append(Motion(circle_arrow_data((x, y)), (x, y - 15.0), _SECONDS["circle"]))
        return found
    circling = step.technique is Technique.CIRCLES
    found = []
    for path in _stroke_paths(atlas, step):
        pixels = [frame.px(point) for point in oriented(path, step.direction)]
        data = coil_data(pixels) if circling else polyline_data(pixels)
        found.append(Motion(data, pixels[0], _SECONDS["coil" if circling else "line"]))
    return found


def _one_per_side(found: Sequence[Motion], midline: float) -> list[Motion]:
    """The first stroke on each side of the spine: one hand each side, as the giver works."""
    left = [m for m in found if m.start[0] < midline]
    right = [m for m in found if m.start[0] >= midline]
    return ([left[0]] if left else []) + ([right[0]] if right else [])


def _hand(atlas: Atlas, step: Step) -> str:
    frame = _frame(atlas)
    midline, _ = frame.px((0.0, 0.0))
    scale = HAND_LIFE * frame.px_per_x / BodyFit().half_width_cm  # pixels per centimetre
    x, y, width, height = _CLIP_CM
    defs = element(
        "defs",
        None,
        element("g", {"id": "live-hand-shape"}, contact_shape(step.contact)),
        element(
            "clipPath",
            {"id": "live-hand-clip"},
            element("rect", {"x": x, "y": y, "width": width, "height": height, "rx": 6}),
        ),
    )
    hands = [defs]
    for motion in _one_per_side(motions(atlas, step, frame), midline):
        # The giver's left hand on the receiver's left, which is the map's left.
        flip = " scale(-1 1)" if motion.start[0] < midline else ""
        shape = element(
            "use",
            {
                "href": "#live-hand-shape",
                "transform": f"scale({number(scale)}){flip}",
                "clip-path": "url(#live-hand-clip)",
            },
        )
        sx, sy = motion.start
        still = element(
            "g",
            {
                "class": "hand-still" if motion.data else "hand-hold",
                "transform": f"translate({number(sx)} {number(sy)})",
            },
            shape,
        )
        hands.append(still)
        if motion.data:
            move = element(
                "animateMotion",
                {
                    "path": motion.data,
                    "dur": f"{motion.seconds:g}s",
                    "repeatCount": "indefinite",
                    "rotate": "0",
                },
            )
            hands.append(element("g", {"class": "hand-moving"}, move, shape))
    return group(
        {
            "class": "live-hand",
            "data-contact": step.contact.value,
            "pointer-events": "none",
            "aria-hidden": "true",
            "opacity": 0.92,
        },
        hands,
    )
