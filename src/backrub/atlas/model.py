"""The back atlas as typed data: regions, landmarks and the body outline, in the back frame."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Point = tuple[float, float]
Coordinate = Annotated[float, Field(ge=-1.3, le=1.3)]
FramePoint = tuple[Coordinate, Coordinate]


class Side(StrEnum):
    LEFT = "left"
    RIGHT = "right"
    MIDLINE = "midline"


class Tissue(StrEnum):
    MUSCLE = "muscle"
    BONE = "bone"
    CAUTION = "caution"


class Area(StrEnum):
    """The three areas of the method; activities and orders are expressed in them."""

    NECK = "neck"
    UPPER_BACK = "upper-back"
    LOWER_BACK = "lower-back"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class RegionSpec(_Strict):
    """One entry of the atlas file, before a paired entry is mirrored into left and right."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
    name: str
    side: Side | None = None
    paired: bool = False
    tissue: Tissue
    area: Area
    muscles: list[str]
    polygon: list[FramePoint] | None = None
    polyline: list[FramePoint] | None = None
    width_cm: Annotated[float, Field(gt=0, le=10)] | None = None
    circle: FramePoint | None = None
    radius_cm: Annotated[float, Field(gt=0, le=10)] | None = None
    path: list[FramePoint] | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> Self:
        shapes = [s for s in (self.polygon, self.polyline, self.circle) if s is not None]
        if len(shapes) != 1:
            raise ValueError(
                "give exactly one shape: polygon, polyline (+ width_cm) or circle (+ radius_cm)"
            )
        if self.polygon is not None and len(self.polygon) < 3:
            raise ValueError("a polygon needs at least 3 points")
        if self.polyline is not None and (self.width_cm is None or len(self.polyline) < 2):
            raise ValueError("a polyline needs at least 2 points and a width_cm")
        if self.circle is not None and self.radius_cm is None:
            raise ValueError("a circle needs a radius_cm")
        if self.paired == (self.side is not None):
            raise ValueError("give either `paired = true` or a `side`, not both")
        if self.path is not None and len(self.path) < 2:
            raise ValueError("a path needs at least 2 points")
        return self


class LandmarkSpec(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
    name: str
    paired: bool = False
    point: FramePoint


class OutlineSpec(_Strict):
    head_center: FramePoint
    head_radius: tuple[float, float]
    body: list[FramePoint]


class AtlasFile(_Strict):
    version: Annotated[int, Field(ge=1, le=1)]
    region: list[RegionSpec]
    landmark: list[LandmarkSpec]
    outline: OutlineSpec


class Region(_Strict):
    """A region as the rest of the product sees it: one side, its own id, shape in the frame."""

    id: str
    base: str
    name: str
    side: Side
    tissue: Tissue
    area: Area
    muscles: tuple[str, ...]
    polygon: tuple[Point, ...] | None = None
    polyline: tuple[Point, ...] | None = None
    width_cm: float | None = None
    circle: Point | None = None
    radius_cm: float | None = None
    path: tuple[Point, ...] | None = None

    @property
    def is_bone(self) -> bool:
        return self.tissue is Tissue.BONE


class Landmark(_Strict):
    id: str
    name: str
    side: Side
    point: Point


class Outline(_Strict):
    head_center: Point
    head_radius: tuple[float, float]
    body_right: tuple[Point, ...]

    @property
    def body(self) -> tuple[Point, ...]:
        """The whole outline: the right half top to bottom, then the mirrored left half back up."""
        left = tuple((-x, y) for x, y in reversed(self.body_right))
        return self.body_right + left
