"""A concrete step: one region (or path across regions), one side, one technique, timed."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from backrub.atlas.model import Point
from backrub.method.vocabulary import (
    Contact,
    Direction,
    PhaseKind,
    PressureLevel,
    StepSide,
    Technique,
)

MethodId = Annotated[str, Field(pattern=r"^[A-Z][0-9]+$")]


class Step(BaseModel):
    """What the giver does now. Routines expand into steps; plans and the live engine time them.

    `regions` are full atlas ids (`upper-trapezius-left`); a step with side BOTH lists the regions
    of both sides. `path`, when given, is a stroke path in the back frame that the stroke checks
    judge as a whole; otherwise each region's own line of work is used.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: str
    phase: PhaseKind
    regions: tuple[str, ...]
    side: StepSide
    technique: Technique
    contact: Contact
    pressure: PressureLevel
    seconds: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    direction: Direction = Direction.STILL
    passes: Annotated[int, Field(ge=1, le=10)] = 1
    cue: str = ""
    how: str = ""
    method_ids: tuple[MethodId, ...] = ()
    check_in: bool = False
    knot: bool = False
    ladder_rung: Annotated[int, Field(ge=1, le=4)] | None = None
    consent: bool = False
    path: tuple[Point, ...] | None = None
    min_seconds: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0
    max_seconds: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    pair: str | None = None
    priority: Annotated[int, Field(ge=1, le=3)] = 2

    @property
    def is_deep(self) -> bool:
        return self.pressure >= PressureLevel.FIRM or self.knot

    def sides_worked(self) -> tuple[StepSide, ...]:
        if self.side is StepSide.BOTH:
            return (StepSide.LEFT, StepSide.RIGHT)
        return (self.side,)
