"""The giver's hand, fist, forearm or elbow as SVG shapes, for the technique pictures.

Every shape is drawn in centimetres around its contact point (0, 0), as the giver sees their own
right hand from behind the receiver: fingers pointing up the back, the arm coming in from below.
The caller places it (translate, scale to pixels, mirror for the left hand). The part that
touches the back is filled with the contact colour, like the live page's contact icons.
"""

from __future__ import annotations

from collections.abc import Callable

from backrub.method.vocabulary import Contact
from backrub.render.markup import element, group
from backrub.render.palette import INK

GIVER_SKIN = "#e2a37c"  # darker than the receiver's back, so the hand stands out on it
GIVER_SLEEVE = "#5b6f8f"
TOUCH = "#c2410c"  # the same orange as the contact icons on the live page
_LINE = 0.32  # outline width, in centimetres (about 1.4 px at the pictures' scale)

_SKIN: dict[str, str | float] = {
    "fill": GIVER_SKIN,
    "stroke": INK,
    "stroke-width": _LINE,
    "stroke-linejoin": "round",
}
_TOUCH: dict[str, str | float] = {"fill": TOUCH, "fill-opacity": 0.85, "class": "touch"}


def _rect(x: float, y: float, w: float, h: float, r: float, style: dict[str, str | float]) -> str:
    return element("rect", {"x": x, "y": y, "width": w, "height": h, "rx": r, **style})


def _ellipse(cx: float, cy: float, rx: float, ry: float, style: dict[str, str | float]) -> str:
    return element("ellipse", {"cx": cx, "cy": cy, "rx": rx, "ry": ry, **style})


def _sleeve(x: float, y: float, w: float, length: float, angle: float = 0.0) -> str:
    """The arm from the wrist down out of the picture, in a sleeve: where the giver stands."""
    return element(
        "g",
        {"transform": f"rotate({angle:g} {x + w / 2:g} {y:g})"},
        _rect(x, y, w, length, w / 2, {**_SKIN, "fill": GIVER_SLEEVE}),
    )


def _fingers(lengths: tuple[float, float, float, float], *, top_touch: bool) -> list[str]:
    parts = []
    for index, length in enumerate(lengths):
        x = -4.3 + index * 2.25
        parts.append(_rect(x, -3.2 - length, 1.95, length + 1.0, 0.97, _SKIN))
        if top_touch:
            parts.append(_ellipse(x + 0.97, -2.4 - length, 0.8, 0.8, _TOUCH))
    return parts


def _thumb(*, touch: bool) -> list[str]:
    thumb = element(
        "g",
        {"transform": "rotate(-35 -4.2 2.5)"},
        _rect(-5.5, -5.0, 2.7, 8.0, 1.35, _SKIN),
        _ellipse(-4.15, -3.6, 1.1, 1.5, _TOUCH) if touch else "",
    )
    return [thumb]


def open_hand(contact: Contact) -> str:
    """A hand flat on the back: palms, fingertips, thumbs, or the heel with fingers lifted."""
    lifted = contact is Contact.HEEL_OF_HAND
    # Lifted fingers are seen end-on from behind, so they look shorter.
    lengths = (4.0, 4.4, 4.1, 3.3) if lifted else (6.6, 7.4, 6.9, 5.4)
    parts = [_sleeve(-3.6, 4.5, 7.2, 30.0)]
    parts += _thumb(touch=contact is Contact.THUMBS)
    parts += _fingers(lengths, top_touch=contact is Contact.FINGERTIPS)
    parts.append(_rect(-4.8, -4.2, 9.6, 9.6, 3.0, _SKIN))
    if contact is Contact.PALMS:
        parts.append(_rect(-3.8, -3.2, 7.6, 7.6, 2.6, {**_TOUCH, "fill-opacity": 0.55}))
    if lifted:
        parts.append(_ellipse(0.0, 3.6, 3.8, 1.5, _TOUCH))
    return group({"class": "hand"}, parts)


def fist(contact: Contact) -> str:
    """A soft fist: knuckles flat on the back, or a loose fist tapping with its little finger."""
    parts = [_sleeve(-3.4, 3.5, 6.8, 30.0)]
    parts.append(_rect(-4.6, -4.4, 9.2, 8.6, 3.2, _SKIN))
    for index in range(4):
        x = -3.45 + index * 2.3
        parts.append(_ellipse(x, -3.9, 1.15, 0.9, _TOUCH if contact is Contact.KNUCKLES else _SKIN))
    # The thumb lies across the front of the curled fingers.
    parts.append(_rect(-4.9, -0.6, 6.4, 2.0, 1.0, _SKIN))
    if contact is Contact.LOOSE_FISTS:
        parts.append(_rect(2.8, -3.6, 1.6, 7.0, 0.8, _TOUCH))
    return group({"class": "hand"}, parts)


def hand_edge(contact: Contact) -> str:
    """A relaxed hand seen edge on, the little-finger edge striking."""
    parts = [_sleeve(-1.8, 4.0, 4.4, 30.0)]
    parts.append(_rect(-1.6, -11.0, 3.4, 16.0, 1.7, _SKIN))
    parts.append(_rect(-3.4, -2.5, 2.2, 5.0, 1.1, _SKIN))  # the thumb, held loosely
    parts.append(_rect(1.0, -10.5, 0.9, 15.0, 0.45, _TOUCH))
    return group({"class": "hand"}, parts)


def forearm(contact: Contact) -> str:
    """A forearm laid across the top of the shoulder, elbow near the neck, hand hanging beyond.

    The contact point is the fleshy part near the elbow; the upper arm drops toward the giver."""
    parts = [_sleeve(-8.0, -0.5, 6.6, 30.0, angle=18)]  # the upper arm, down to the giver
    parts.append(_rect(-6.5, -3.2, 18.0, 6.4, 3.2, _SKIN))
    parts.append(_rect(-3.5, -2.2, 9.0, 4.4, 2.2, _TOUCH))
    parts.append(_rect(10.5, -3.4, 6.8, 6.8, 3.0, _SKIN))  # the relaxed hand past the shoulder
    return group({"class": "hand"}, parts)


def elbow(contact: Contact) -> str:
    """The point of the elbow on the back (0, 0), the arm folded to about 45 degrees.

    Both halves of the arm come back toward the giver below; an arc and the angle written beside
    it show how far to fold, because the angle is what the giver needs to copy."""
    upper = element(
        "g",
        {"transform": "rotate(12)"},
        _rect(-3.4, -1.5, 6.8, 32.0, 3.4, {**_SKIN, "fill": GIVER_SLEEVE}),
    )
    lower = element(
        "g",
        {"transform": "rotate(-33)"},
        _rect(-2.9, -1.5, 5.8, 24.0, 2.9, _SKIN),
        _rect(-3.8, 20.5, 7.6, 7.6, 3.2, _SKIN),
    )
    arc = element(
        "path",
        {
            "d": "M -2.9 13.7 A 14 14 0 0 0 7.6 11.7",
            "fill": "none",
            "stroke": INK,
            "stroke-width": 0.4,
        },
    )
    label = element(
        "text",
        {
            "x": 2.6,
            "y": 19.5,
            "font-size": 3.6,
            "font-weight": "bold",
            "text-anchor": "middle",
            "fill": INK,
        },
        text="45°",
    )
    return group(
        {"class": "hand"},
        [upper, lower, _ellipse(0.0, 0.0, 2.8, 2.8, _TOUCH), arc, label],
    )


SHAPES: dict[Contact, Callable[[Contact], str]] = {
    Contact.PALMS: open_hand,
    Contact.FINGERTIPS: open_hand,
    Contact.THUMBS: open_hand,
    Contact.HEEL_OF_HAND: open_hand,
    Contact.KNUCKLES: fist,
    Contact.LOOSE_FISTS: fist,
    Contact.HAND_EDGES: hand_edge,
    Contact.FOREARM: forearm,
    Contact.ELBOW: elbow,
}


def contact_shape(contact: Contact) -> str:
    return SHAPES[contact](contact)
