"""Colours, fill patterns and the shared `<defs>` of every back map."""

from __future__ import annotations

import math
from itertools import pairwise

from backrub.atlas import Area
from backrub.render.markup import element

SKIN = "#f6dfcc"
SKIN_EDGE = "#b3876a"
INK = "#2b2b2b"
LEADER = "#6b6b6b"
ARROW = "#1f3f8f"
HIGHLIGHT = "#ffbf00"

# Soft, clearly different hues per area, so the three areas of the method read at a glance.
MUSCLE_FILL: dict[Area, str] = {
    Area.NECK: "#c9b8ea",
    Area.UPPER_BACK: "#f3aa9c",
    Area.LOWER_BACK: "#a9d6b8",
}
MUSCLE_EDGE: dict[Area, str] = {
    Area.NECK: "#7d67b3",
    Area.UPPER_BACK: "#c0604f",
    Area.LOWER_BACK: "#4f9268",
}
BONE_EDGE = "#6f6f6f"
CAUTION_EDGE = "#d9480f"

BONE_PATTERN = "bone-hatch"
CAUTION_PATTERN = "caution-stripes"
ARROWHEAD = "arrowhead"
GLOW = "highlight-glow"
HEAT_GRADIENT = "heat-scale"

# A blue ramp, light to dark: nothing else on the map is blue, so coverage never reads as
# a muscle area or as the orange of a caution zone.
_HEAT_STOPS: tuple[tuple[float, tuple[int, int, int]], ...] = (
    (0.0, (0xF1, 0xEE, 0xF6)),
    (0.5, (0x74, 0xA9, 0xCF)),
    (1.0, (0x04, 0x5A, 0x8D)),
)


def heat_colour(value: float) -> str:
    """The ramp colour for a value in 0..1 (values outside are clamped)."""
    if math.isnan(value):
        raise ValueError("a heat value must be a number from 0 to 1, not NaN")
    value = min(1.0, max(0.0, value))
    for (low, low_rgb), (high, high_rgb) in pairwise(_HEAT_STOPS):
        if value <= high:
            share = (value - low) / (high - low)
            rgb = [round(a + (b - a) * share) for a, b in zip(low_rgb, high_rgb, strict=True)]
            return "#" + "".join(f"{channel:02x}" for channel in rgb)
    raise AssertionError("unreachable: the last stop is 1.0")


def defs() -> str:
    bone = element(
        "pattern",
        {
            "id": BONE_PATTERN,
            "patternUnits": "userSpaceOnUse",
            "width": 5,
            "height": 5,
            "patternTransform": "rotate(45)",
        },
        element("rect", {"width": 5, "height": 5, "fill": "#e3e3e3"}),
        element(
            "line", {"x1": 0, "y1": 0, "x2": 0, "y2": 5, "stroke": "#8c8c8c", "stroke-width": 1.4}
        ),
    )
    caution = element(
        "pattern",
        {
            "id": CAUTION_PATTERN,
            "patternUnits": "userSpaceOnUse",
            "width": 10,
            "height": 10,
            "patternTransform": "rotate(-45)",
        },
        element("rect", {"width": 10, "height": 10, "fill": "#ffb38a", "fill-opacity": 0.35}),
        element("rect", {"width": 4, "height": 10, "fill": "#e8590c", "fill-opacity": 0.6}),
    )
    arrowhead = element(
        "marker",
        {
            "id": ARROWHEAD,
            "viewBox": "0 0 10 10",
            "refX": 6,
            "refY": 5,
            "markerWidth": 4,
            "markerHeight": 4,
            "orient": "auto",
            "markerUnits": "strokeWidth",
        },
        element("path", {"d": "M0 0 L10 5 L0 10 Z", "fill": ARROW}),
    )
    glow = element(
        "filter",
        {"id": GLOW, "x": "-50%", "y": "-50%", "width": "200%", "height": "200%"},
        element("feGaussianBlur", {"stdDeviation": 3}),
    )
    gradient = element(
        "linearGradient",
        {"id": HEAT_GRADIENT, "x1": 0, "y1": 0, "x2": 1, "y2": 0},
        *(
            element("stop", {"offset": f"{stop:g}", "stop-color": heat_colour(stop)})
            for stop, _ in _HEAT_STOPS
        ),
    )
    return element("defs", None, bone, caution, arrowhead, glow, gradient)
