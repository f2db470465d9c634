"""Feedback events during a live session: what the receiver or the giver says, and when."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class EventKind(StrEnum):
    MORE = "more"
    LESS = "less"
    TICKLISH = "ticklish"
    PAIN = "pain"
    HEADACHE = "headache"
    NAUSEA = "nausea"
    KNOT = "knot"
    STILL_TIGHT = "still-tight"
    RELEASED = "released"
    ACCEPT_ELBOW = "accept-elbow"
    DECLINE_ELBOW = "decline-elbow"
    FELT = "felt"
    COUGH = "cough"
    SKIP = "skip"
    EXTEND = "extend"  # "+30 s here": the current step gets more time (session/navigation.py)
    BACK = "back"  # "back one step": the step before is done again (session/navigation.py)
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    TICK = "tick"
    END = "end"  # the session finished on its own (written by the live guides)


# The events that may say where on the back (a tap on the map).
TAKES_REGION = frozenset({EventKind.KNOT, EventKind.PAIN})


class Event(BaseModel):
    """One event. `at` is seconds since the session started (wall clock, pauses included).

    `region` goes with `knot` (where the knot is; the current region when left out) and with
    `pain` (where it hurts; every region of the current step when left out);
    `value` goes with `felt` (0 nothing at all .. 10 unbearable).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    kind: EventKind
    region: str | None = None
    value: Annotated[int, Field(ge=0, le=10)] | None = None

    @model_validator(mode="after")
    def _fields_fit_the_kind(self) -> Self:
        if self.kind is EventKind.FELT and self.value is None:
            raise ValueError("a 'felt' event needs a value from 0 to 10")
        if self.kind is not EventKind.FELT and self.value is not None:
            raise ValueError(f"a {self.kind.value!r} event takes no value")
        if self.region is not None and self.kind not in TAKES_REGION:
            raise ValueError(f"a {self.kind.value!r} event takes no region")
        return self
