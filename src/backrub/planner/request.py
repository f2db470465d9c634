"""What the planner is asked for: who receives, what they do, where it hurts, how long."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from backrub.atlas import BodyFit
from backrub.method.vocabulary import PressureLevel
from backrub.safety.screening import ScreeningAnswers

MIN_MINUTES = 5
MAX_MINUTES = 90


class Order(StrEnum):
    """The orders of areas the method knows (B2)."""

    TOP_DOWN = "top-down"
    UPPER_LOWER_NECK = "upper-lower-neck"
    PROBLEM_FIRST = "problem-first"


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    minutes: Annotated[float, Field(ge=MIN_MINUTES, le=MAX_MINUTES, allow_inf_nan=False)] = 20
    activities: tuple[str, ...] = ()
    trouble_spots: tuple[str, ...] = ()
    # Regions sore the day after the last session (the next-day check-in): worked lighter.
    sore_spots: tuple[str, ...] = ()
    pressure: PressureLevel = PressureLevel.MODERATE
    order: Order = Order.TOP_DOWN
    screening: ScreeningAnswers = ScreeningAnswers()
    routine: str = "classic"
    fit: BodyFit = BodyFit()
    receiver: str | None = None

    @property
    def budget_seconds(self) -> int:
        return round(self.minutes * 60)
