"""Where the back frame lands on the page: frame points to pixels, at a real back's proportions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from shapely import affinity
from shapely.geometry import Point as ShapelyPoint
from shapely.geometry import Polygon
from shapely.ops import unary_union

from backrub.atlas import Atlas, BodyFit
from backrub.atlas.model import Point
from backrub.render.markup import polyline_data


@dataclass(frozen=True)
class Bounds:
    """A box in the back frame (frame units, y growing downwards)."""

    left: float
    top: float
    right: float
    bottom: float

    @classmethod
    def around(cls, points: Iterable[Point]) -> Bounds:
        xs, ys = zip(*points, strict=True)
        return cls(min(xs), min(ys), max(xs), max(ys))


def atlas_bounds(atlas: Atlas) -> Bounds:
    """The box holding the silhouette, the head and every region, so nothing is clipped."""
    (head_x, head_y), (radius_x, radius_y) = atlas.outline.head_center, atlas.outline.head_radius
    points: list[Point] = list(atlas.outline.body)
    points += [(head_x - radius_x, head_y - radius_y), (head_x + radius_x, head_y + radius_y)]
    for region in atlas.regions:
        left, top, right, bottom = atlas.geometry.shape(region.id).bounds
        points += [(float(left), float(top)), (float(right), float(bottom))]
    return Bounds.around(points)


@dataclass(frozen=True)
class FrameMapping:
    """Frame units to pixels. x and y get different scales because the frame is not square:
    one x unit is half the shoulder width, one y unit the whole skull-to-S2 length."""

    px_per_x: float
    px_per_y: float
    origin_x: float
    origin_y: float

    @classmethod
    def fitted(
        cls,
        bounds: Bounds,
        *,
        left_px: float,
        top_px: float,
        width_px: float,
        fit: BodyFit | None = None,
    ) -> FrameMapping:
        """A mapping that puts `bounds` at (left_px, top_px), `width_px` wide."""
        fit = fit or BodyFit()
        px_per_cm = width_px / ((bounds.right - bounds.left) * fit.half_width_cm)
        px_per_x = px_per_cm * fit.half_width_cm
        px_per_y = px_per_cm * fit.skull_to_s2_cm
        return cls(
            px_per_x=px_per_x,
            px_per_y=px_per_y,
            origin_x=left_px - bounds.left * px_per_x,
            origin_y=top_px - bounds.top * px_per_y,
        )

    def px(self, point: Point) -> Point:
        x, y = point
        return (self.origin_x + x * self.px_per_x, self.origin_y + y * self.px_per_y)

    def path_data(self, points: Sequence[Point], *, closed: bool = False) -> str:
        """SVG path data for a line through frame points (closed into an outline if asked)."""
        return polyline_data([self.px(point) for point in points], closed=closed)

    def shape_data(self, shape: Any) -> str:
        """SVG path data for a shapely (multi)polygon in frame units, holes included."""
        polygons = list(getattr(shape, "geoms", [shape]))
        rings: list[str] = []
        for polygon in polygons:
            for ring in (polygon.exterior, *polygon.interiors):
                points = [(float(x), float(y)) for x, y in ring.coords[:-1]]
                rings.append(self.path_data(points, closed=True))
        return " ".join(rings)


def silhouette(atlas: Atlas) -> Any:
    """Head and body as one shape, so no seam is drawn where the neck meets the skull."""
    (head_x, head_y), (radius_x, radius_y) = atlas.outline.head_center, atlas.outline.head_radius
    head = affinity.scale(
        ShapelyPoint(head_x, head_y).buffer(1.0, quad_segs=32), radius_x, radius_y
    )
    return unary_union([head, Polygon(atlas.outline.body)])
