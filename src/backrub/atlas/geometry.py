"""Spatial questions about the atlas, answered with shapely 2's vectorized functions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely
from shapely import affinity
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from backrub.atlas.derived import stroke_path_through
from backrub.atlas.fit import BodyFit
from backrub.atlas.model import Point as FramePoint
from backrub.atlas.model import Region, Tissue

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
# How many answers about crossed tissue one atlas keeps (a plan asks about a hundred).
_KEPT_ANSWERS = 4096


# Ridges and knobs have real sizes, so they are shaped in centimetres on an average back and
# then brought into the frame, where a unit is 20 cm across but 58 cm down.
_AVERAGE = BodyFit()
_CM_PER_UNIT_X = _AVERAGE.half_width_cm
_CM_PER_UNIT_Y = _AVERAGE.skull_to_s2_cm


def _to_cm(shape: BaseGeometry) -> BaseGeometry:
    return affinity.scale(shape, _CM_PER_UNIT_X, _CM_PER_UNIT_Y, origin=(0, 0))


def _from_cm(shape: BaseGeometry) -> BaseGeometry:
    return affinity.scale(shape, 1 / _CM_PER_UNIT_X, 1 / _CM_PER_UNIT_Y, origin=(0, 0))


def region_shape(region: Region) -> BaseGeometry:
    """The area a region covers: a polygon, a ridge (a line with a width) or a knob (a disc)."""
    if region.polygon is not None:
        return Polygon(region.polygon)
    if region.polyline is not None and region.width_cm is not None:
        # Flat caps: a ridge ends where its bone ends, not half a width beyond.
        ridge = _to_cm(LineString(region.polyline)).buffer(region.width_cm / 2, cap_style="flat")
        return _from_cm(ridge)
    if region.circle is not None and region.radius_cm is not None:
        return _from_cm(_to_cm(Point(region.circle)).buffer(region.radius_cm, quad_segs=16))
    raise ValueError(f"region {region.id} has no shape")


class AtlasGeometry:
    """Shapes of every region, in the atlas order, with vectorized look-ups over many points."""

    def __init__(self, regions: Sequence[Region]) -> None:
        self.regions = tuple(regions)
        self.ids = np.array([region.id for region in self.regions], dtype=object)
        self.shapes = np.array([region_shape(region) for region in self.regions], dtype=object)
        shapely.prepare(self.shapes)
        tissues = np.array([region.tissue.value for region in self.regions], dtype=object)
        self._bone = tissues == Tissue.BONE.value
        self._hazard = self._bone | (tissues == Tissue.CAUTION.value)
        self._index = {region.id: number for number, region in enumerate(self.regions)}
        # The rules and the planner ask the same few questions about the same lines again and
        # again (every plan, every live step); the shapes never change, so the answers are kept.
        self._crossed: dict[tuple[tuple[FramePoint, ...], Tissue], tuple[str, ...]] = {}
        self._stroke_paths: dict[str, tuple[FramePoint, ...]] = {}

    def shape(self, region_id: str) -> BaseGeometry:
        shape: BaseGeometry = self.shapes[self._index[region_id]]
        return shape

    def membership(self, x: npt.ArrayLike, y: npt.ArrayLike) -> BoolArray:
        """A (regions x points) table: True where a point lies in (or on the edge of) a region."""
        xs = np.atleast_1d(np.asarray(x, dtype=float))
        ys = np.atleast_1d(np.asarray(y, dtype=float))
        table = shapely.intersects_xy(
            self.shapes[:, np.newaxis], xs[np.newaxis, :], ys[np.newaxis, :]
        )
        return np.asarray(table, dtype=bool)

    def regions_at(self, x: float, y: float) -> list[str]:
        """Ids of every region containing the point, in atlas order."""
        return [str(region_id) for region_id in self.ids[self.membership(x, y)[:, 0]]]

    def regions_at_many(self, x: npt.ArrayLike, y: npt.ArrayLike) -> list[list[str]]:
        table = self.membership(x, y)
        return [[str(region_id) for region_id in self.ids[column]] for column in table.T]

    def regions_along(self, path: Sequence[FramePoint]) -> list[str]:
        """Ids of every region a stroke path touches anywhere along its length, in atlas order."""
        hits = shapely.intersects(self.shapes, _as_line(path))
        return [str(region_id) for region_id in self.ids[hits]]

    def crossed(self, path: Sequence[FramePoint], *, tissue: Tissue) -> list[str]:
        """Ids of the regions of one tissue that a stroke path touches anywhere along its length."""
        key = (tuple(path), tissue)
        known = self._crossed.get(key)
        if known is None:
            line = _as_line(path)
            wanted = self._bone if tissue is Tissue.BONE else self._tissue_mask(tissue)
            hits = shapely.intersects(self.shapes[wanted], line)
            known = tuple(str(region_id) for region_id in self.ids[wanted][hits])
            if len(self._crossed) >= _KEPT_ANSWERS:
                # Drawn strokes (a robot's paths) can be endless; keep the memory bounded.
                self._crossed.clear()
            self._crossed[key] = known
        return list(known)

    def crosses_bone(self, path: Sequence[FramePoint]) -> list[str]:
        return self.crossed(path, tissue=Tissue.BONE)

    def clearance_cm(
        self, x: npt.ArrayLike, y: npt.ArrayLike, fit: BodyFit = _AVERAGE
    ) -> FloatArray:
        """Centimetres from each point to the nearest bone or kidney zone on a back of this fit.

        0 inside one. Measured in centimetres, not frame units, because a frame unit is much
        longer down the back than across it.
        """
        xs = np.atleast_1d(np.asarray(x, dtype=float)) * fit.half_width_cm
        ys = np.atleast_1d(np.asarray(y, dtype=float)) * fit.skull_to_s2_cm
        hazards = np.array(
            [
                affinity.scale(shape, fit.half_width_cm, fit.skull_to_s2_cm, origin=(0, 0))
                for shape in self.shapes[self._hazard]
            ],
            dtype=object,
        )
        points = shapely.points(xs, ys)
        distances = shapely.distance(points[:, np.newaxis], hazards[np.newaxis, :])
        return np.asarray(distances.min(axis=1), dtype=float)

    def centroid(self, region_id: str) -> FramePoint:
        point = self.shape(region_id).representative_point()
        return (float(point.x), float(point.y))

    def stroke_path(self, region_id: str) -> tuple[FramePoint, ...]:
        """The region's line of work; a region without one gets a short line through its middle."""
        known = self._stroke_paths.get(region_id)
        if known is not None:
            return known
        region = self.regions[self._index[region_id]]
        path = stroke_path_through(region, self.centroid(region_id))
        self._stroke_paths[region_id] = path
        return path

    def _tissue_mask(self, tissue: Tissue) -> BoolArray:
        return np.array([region.tissue is tissue for region in self.regions], dtype=bool)


def _as_line(path: Sequence[FramePoint]) -> BaseGeometry:
    if len(path) == 1:
        return Point(path[0])
    return LineString(path)
