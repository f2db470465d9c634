"""Fitting the atlas to a person: converting between the back frame and centimetres."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from backrub.atlas.model import Point

# Adult averages, used when a measurement is not given; they also set the drawing's proportions.
DEFAULT_SHOULDER_WIDTH_CM = 40.0
DEFAULT_SKULL_TO_S2_CM = 58.0


class BodyFit(BaseModel):
    """A person's back size. Shoulder width is tip to tip; length is base of skull to S2."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    shoulder_width_cm: Annotated[float, Field(ge=20, le=80, allow_inf_nan=False)] = (
        DEFAULT_SHOULDER_WIDTH_CM
    )
    skull_to_s2_cm: Annotated[float, Field(ge=30, le=110, allow_inf_nan=False)] = (
        DEFAULT_SKULL_TO_S2_CM
    )

    @property
    def half_width_cm(self) -> float:
        return self.shoulder_width_cm / 2

    def to_cm(self, point: Point) -> Point:
        """Frame point to centimetres: x from the spine (right positive), y down from the skull."""
        x, y = point
        return (x * self.half_width_cm, y * self.skull_to_s2_cm)

    def from_cm(self, point: Point) -> Point:
        x_cm, y_cm = point
        return (x_cm / self.half_width_cm, y_cm / self.skull_to_s2_cm)

    def distance_cm(self, a: Point, b: Point) -> float:
        (ax, ay), (bx, by) = self.to_cm(a), self.to_cm(b)
        return float(((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5)
