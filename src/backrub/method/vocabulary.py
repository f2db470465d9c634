"""The words of the method: contacts, techniques, the 1-5 pressure scale, directions, phases."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Contact(StrEnum):
    """The part of the giver's body that touches the receiver."""

    FINGERTIPS = "fingertips"
    THUMBS = "thumbs"
    PALMS = "palms"
    HEEL_OF_HAND = "heel-of-hand"
    KNUCKLES = "knuckles"
    FOREARM = "forearm"
    ELBOW = "elbow"
    LOOSE_FISTS = "loose-fists"
    HAND_EDGES = "hand-edges"


class Technique(StrEnum):
    SWEEP = "sweep"
    PALM_COMPRESSION = "palm-compression"
    KNEADING = "kneading"
    CIRCLES = "circles"
    STATIC_PRESSURE = "static-pressure"
    PERCUSSION = "percussion"
    MILD_RUBBING = "mild-rubbing"


class PressureLevel(IntEnum):
    FEATHER = 1
    LIGHT = 2
    MODERATE = 3
    FIRM = 4
    DEEP = 5

    @property
    def word(self) -> str:
        return self.name.lower()


class Direction(StrEnum):
    """Which way strokes travel along the region's line of work."""

    DOWN = "down"
    UP = "up"
    OUTWARD = "outward"
    INWARD = "inward"
    CIRCLES = "circles"
    STILL = "still"


class PhaseKind(StrEnum):
    OPENING = "opening"
    NECK = "neck"
    UPPER_BACK = "upper-back"
    LOWER_BACK = "lower-back"
    CLOSING = "closing"


class StepSide(StrEnum):
    """Which side a concrete step works: one side, both at once (or alternating), or the midline."""

    LEFT = "left"
    RIGHT = "right"
    BOTH = "both"
    MIDLINE = "midline"


# Contacts strong enough to carry firm or deep pressure without the giver's fingers taking the
# load (U5, G1): the giver leans body weight in through them.
DEEP_CONTACTS = frozenset({Contact.HEEL_OF_HAND, Contact.KNUCKLES, Contact.FOREARM, Contact.ELBOW})
FINGER_CONTACTS = frozenset({Contact.FINGERTIPS, Contact.THUMBS})
PERCUSSION_CONTACTS = frozenset({Contact.LOOSE_FISTS, Contact.HAND_EDGES})
DEEP_PRESSURE = PressureLevel.FIRM
