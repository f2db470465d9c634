"""A picture of each technique and contact pair: the giver's hand or arm on a back, moving.

Each picture is a small standalone SVG: the back from behind (the same outline and colours as
the back map), the hand, fist, forearm or elbow from `hands.py` at a spot where the routines use
it, and a CSS animation of the motion (press and release, circles, a lean, alternating fists, a
sweep). A `prefers-reduced-motion: reduce` rule inside the picture stops the animation; a drawn
arrow or mark still says how the hands move. No scripts: pages show them with `<img>`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from backrub.atlas import Atlas, Tissue, default_atlas
from backrub.atlas.model import Point
from backrub.method.pairs import Pair
from backrub.method.vocabulary import Contact, Technique
from backrub.method.words import vocabulary
from backrub.render import palette
from backrub.render.frame import Bounds, FrameMapping, silhouette
from backrub.render.hands import contact_shape
from backrub.render.markup import AttributeValue, element, group, polyline_data
from backrub.render.markup import title as title_element
from backrub.render.steps import circle_arrow_data

WIDTH = 200
# The back from the top of the head to below the belt line: every spot the routines work.
_VIEW = Bounds(-1.15, -0.24, 1.15, 1.02)
_HAND_SCALE = 0.95  # hands a touch smaller than life, so two fit on the back side by side
_MARK = "#1f3f8f"  # the back map's arrow blue

# How the hands move, in our own words, for the caption.
MOTION: dict[Technique, str] = {
    Technique.SWEEP: "long, light strokes down the back",
    Technique.PALM_COMPRESSION: "press in, hold a breath, let go, move a hand's width on",
    Technique.KNEADING: "gather the muscle, squeeze softly, let go",
    Technique.CIRCLES: "small slow circles that move the muscle, not the shirt",
    Technique.STATIC_PRESSURE: "lean in slowly, hold steady, ease off slowly",
    Technique.PERCUSSION: "quick light taps, the hands taking turns",
    Technique.MILD_RUBBING: "easy rubbing to and fro on one spot",
}
_CONTACT_WORDS: dict[Contact, str] = {
    Contact.PALMS: "flat palms",
    Contact.FINGERTIPS: "fingertips",
    Contact.THUMBS: "thumbs",
    Contact.HEEL_OF_HAND: "heel of the hand, fingers lifted",
    Contact.KNUCKLES: "soft knuckles",
    Contact.FOREARM: "forearm across the shoulder",
    Contact.ELBOW: "elbow, arm folded to about 45 degrees",
    Contact.LOOSE_FISTS: "loose fists",
    Contact.HAND_EDGES: "edges of the hands",
}
# Where on the back (frame units, picture-right half) each contact's hand is put down.
_SPOT: dict[Contact, Point] = {
    Contact.PALMS: (0.34, 0.42),
    Contact.FINGERTIPS: (0.26, 0.22),
    Contact.THUMBS: (0.26, 0.2),
    Contact.HEEL_OF_HAND: (0.36, 0.72),
    Contact.KNUCKLES: (0.3, 0.42),
    Contact.FOREARM: (0.24, 0.13),
    Contact.ELBOW: (0.3, 0.36),
    Contact.LOOSE_FISTS: (0.36, 0.4),
    Contact.HAND_EDGES: (0.36, 0.4),
}
_TWO_HANDS = {Technique.SWEEP, Technique.PALM_COMPRESSION, Technique.PERCUSSION}


def caption(pair: Pair) -> str:
    """One line for a picture: what it shows, in our own words."""
    technique, contact = pair
    name = vocabulary().technique[technique].name
    return f"{name} with the {_CONTACT_WORDS[contact]}: {MOTION[technique]}."


def picture_name(pair: Pair) -> str:
    """A pair's file name, e.g. `circles--knuckles.svg` (two dashes: names hold one)."""
    technique, contact = pair
    return f"{technique.value}--{contact.value}.svg"


@dataclass(frozen=True)
class _Motion:
    keyframes: str
    seconds: float
    timing: str = "ease-in-out"


def _orbit(radius: float) -> str:
    # Twelve points round a circle with linear steps between them read as a smooth circle.
    stops = []
    for index in range(13):
        angle = 2 * math.pi * index / 12
        x, y = radius * math.cos(angle), radius * math.sin(angle)
        stops.append(f"{100 * index / 12:.1f}%{{transform:translate({x:.2f}px,{y:.2f}px)}}")
    return "".join(stops)


# Keyframes move the hand in its own centimetres (the hand's group is scaled to pixels).
MOTIONS: dict[Technique, _Motion] = {
    Technique.PALM_COMPRESSION: _Motion(
        "0%,100%{transform:translate(0,-0.6px) scale(1.04)}"
        "35%,65%{transform:translate(0,0.6px) scale(0.95)}",
        2.4,
    ),
    Technique.STATIC_PRESSURE: _Motion(
        "0%,100%{transform:translate(0,-0.8px) scale(1.04)}"
        "30%,75%{transform:translate(0.5px,0.8px) scale(0.95)}",
        5.0,
    ),
    Technique.CIRCLES: _Motion(_orbit(1.6), 2.0, "linear"),
    Technique.KNEADING: _Motion(
        "0%,100%{transform:scale(1.05,1)}45%,55%{transform:scale(0.82,0.97) translate(0,0.6px)}",
        1.8,
    ),
    Technique.MILD_RUBBING: _Motion(
        "0%,100%{transform:translate(-1.4px,0)}50%{transform:translate(1.4px,0)}", 0.9
    ),
    Technique.PERCUSSION: _Motion(
        "0%,100%{transform:translate(0,-3px)}40%{transform:translate(0,0)}"
        "55%{transform:translate(0,-3px)}",
        0.7,
    ),
    Technique.SWEEP: _Motion(
        "0%{transform:translate(0,-2px);opacity:0}12%{opacity:1}"
        "80%{transform:translate(0,22px);opacity:1}100%{transform:translate(0,24px);opacity:0}",
        3.2,
    ),
}


def _style(technique: Technique) -> str:
    motion = MOTIONS[technique]
    return (
        f"@keyframes move{{{motion.keyframes}}}"
        f".move{{animation:move {motion.seconds:g}s {motion.timing} infinite;"
        "transform-origin:0 0}"
        # Percussion: the second hand strikes while the first lifts.
        f".second .move{{animation-delay:-{motion.seconds / 2:g}s}}"
        "@media (prefers-reduced-motion: reduce){.move{animation:none}}"
    )


def _back(atlas: Atlas, frame: FrameMapping) -> str:
    """The receiver's back: the map's outline and skin colour, with the bones drawn faintly."""
    parts = [
        element(
            "path",
            {
                "d": frame.shape_data(silhouette(atlas)),
                "fill": palette.SKIN,
                "stroke": palette.SKIN_EDGE,
                "stroke-width": 1.5,
            },
        )
    ]
    for region in atlas.regions:
        if region.tissue is Tissue.BONE:
            parts.append(
                element(
                    "path",
                    {
                        "d": frame.shape_data(atlas.geometry.shape(region.id)),
                        "fill": "#eccbb3",
                        "stroke": "none",
                    },
                )
            )
    return group({"class": "back"}, parts)


def _hand(contact: Contact, at: Point, scale: float, *, mirrored: bool, second: bool) -> str:
    x, y = at
    flip = " scale(-1 1)" if mirrored else ""
    place = f"translate({x:.2f} {y:.2f}) scale({scale:.3f}){flip}"
    moving = element("g", {"class": "move"}, contact_shape(contact))
    return element("g", {"transform": place, "class": "second" if second else None}, moving)


def _marks(technique: Technique, spots: list[Point], scale: float) -> list[str]:
    """What stays when motion is off: arrows and marks for the way the hands move."""
    line: dict[str, AttributeValue] = {
        "fill": "none",
        "stroke": _MARK,
        "stroke-width": 2.2,
        "stroke-linecap": "round",
    }
    marks: list[str] = []
    for x, y in spots:
        if technique is Technique.SWEEP:
            # Beside each hand, on its outer side, so the arm does not hide it.
            side = x + (8 if x > WIDTH / 2 else -8) * scale
            data = polyline_data([(side, y - 4 * scale), (side, y + 24 * scale)])
            head = polyline_data(
                [(side - 5, y + 19 * scale), (side, y + 24 * scale), (side + 5, y + 19 * scale)]
            )
            marks += [element("path", {"d": data, **line}), element("path", {"d": head, **line})]
        elif technique is Technique.CIRCLES:
            marks.append(
                element("path", {"d": circle_arrow_data((x, y), radius=6 * scale), **line})
            )
        elif technique is Technique.MILD_RUBBING:
            # A two-headed arrow above the fingers: to and fro.
            top, half = y - 15 * scale, 6 * scale
            data = polyline_data([(x - half, top), (x + half, top)])
            heads = [
                polyline_data([(x - half + 4, top - 4), (x - half, top), (x - half + 4, top + 4)]),
                polyline_data([(x + half - 4, top - 4), (x + half, top), (x + half - 4, top + 4)]),
            ]
            marks += [element("path", {"d": d, **line}) for d in (data, *heads)]
        elif technique is Technique.PERCUSSION:
            for dx in (-2.5, 0.0, 2.5):
                data = polyline_data(
                    [(x + dx * scale, y - 9 * scale), (x + dx * scale, y - 6 * scale)]
                )
                marks.append(element("path", {"d": data, **line}))
    return marks


def technique_svg(pair: Pair, *, atlas: Atlas | None = None) -> str:
    """The picture of one pair as SVG text (any pair of the vocabulary can be drawn)."""
    technique, contact = pair
    atlas = atlas or default_atlas()
    frame = FrameMapping.fitted(_VIEW, left_px=0, top_px=0, width_px=WIDTH)
    height = round((_VIEW.bottom - _VIEW.top) * frame.px_per_y)
    scale = frame.px_per_x / 20 * _HAND_SCALE  # 20 cm: half a shoulder width, one frame unit
    spot_x, spot_y = _SPOT[contact]
    if technique is Technique.SWEEP:
        spot_y = 0.28  # sweeps start high and travel down the whole back
    spots = [frame.px((spot_x, spot_y))]
    if technique in _TWO_HANDS:
        spots.insert(0, frame.px((-spot_x, spot_y)))
    # Only percussion alternates; two hands sweeping or pressing move together.
    alternate = technique is Technique.PERCUSSION
    hands = [
        _hand(
            contact,
            at,
            scale,
            mirrored=len(spots) == 2 and index == 0,
            second=alternate and index == 1,
        )
        for index, at in enumerate(spots)
    ]
    text = caption(pair)
    body = [
        element("style", text=_style(technique)),
        element("rect", {"width": WIDTH, "height": height, "fill": "#ffffff"}),
        _back(atlas, frame),
        *hands,
        *_marks(technique, spots, scale),
    ]
    root: dict[str, AttributeValue] = {
        "xmlns": "http://www.w3.org/2000/svg",
        "width": WIDTH,
        "height": height,
        "viewBox": f"0 0 {WIDTH} {height}",
        "role": "img",
        "font-family": "sans-serif",
        "class": f"technique {technique.value} {contact.value}",
    }
    return element("svg", root, title_element(text), *body) + "\n"


def pictures_index(pairs: tuple[Pair, ...]) -> str:
    """A plain HTML page showing every picture with its caption (for `routines --pictures`)."""
    figures = []
    for pair in pairs:
        name = escape(picture_name(pair))
        words = escape(caption(pair))
        image = f'<img src="{name}" alt="" width="200">'
        figures.append(f"<figure>{image}<figcaption>{words}</figcaption></figure>")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>backrub: every technique</title><style>"
        "body{font-family:sans-serif;margin:1rem}main{display:flex;flex-wrap:wrap;gap:1rem}"
        "figure{margin:0;width:200px}figcaption{font-size:14px}</style></head>\n<body>"
        "<h1>Every technique the routines use</h1><main>\n"
        + "\n".join(figures)
        + "\n</main></body></html>\n"
    )
