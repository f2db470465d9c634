"""The Atlas object: loads the atlas file, mirrors paired regions, answers look-ups by id."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backrub.atlas import derived
from backrub.atlas.derived import SpatialAnswers
from backrub.atlas.model import (
    Area,
    AtlasFile,
    Landmark,
    LandmarkSpec,
    Outline,
    Point,
    Region,
    RegionSpec,
    Side,
    Tissue,
)
from backrub.datafile import read_toml, shipped, validate
from backrub.errors import DataFileError, UnknownNameError

if TYPE_CHECKING:
    # numpy and shapely load with the geometry, on its first use: a plan needs only `answers`.
    from backrub.atlas.geometry import AtlasGeometry

_SIDES = (Side.LEFT, Side.RIGHT)


def _mirror(points: Iterable[Point], side: Side) -> tuple[Point, ...]:
    # Paired shapes are written for the right side; the left is their mirror image in x.
    sign = -1.0 if side is Side.LEFT else 1.0
    return tuple((sign * x, y) for x, y in points)


def _regions_from_spec(spec: RegionSpec) -> list[Region]:
    if not spec.paired:
        assert spec.side is not None
        return [_region(spec, spec.id, spec.side, side_for_mirror=Side.RIGHT)]
    return [_region(spec, f"{spec.id}-{side}", side, side_for_mirror=side) for side in _SIDES]


def _region(spec: RegionSpec, region_id: str, side: Side, *, side_for_mirror: Side) -> Region:
    def shape(points: list[tuple[float, float]] | None) -> tuple[Point, ...] | None:
        return None if points is None else _mirror(points, side_for_mirror)

    circle = None if spec.circle is None else _mirror([spec.circle], side_for_mirror)[0]
    suffix = "" if side is Side.MIDLINE else f" ({side})"
    # Every value is of its field's exact type, from the validated spec: built as it is, without
    # building Region's validator (a tenth of reading the atlas). tests/test_atlas.py checks
    # that each region equals itself validated.
    return Region.model_construct(
        id=region_id,
        base=spec.id,
        name=spec.name + suffix,
        side=side,
        tissue=spec.tissue,
        area=spec.area,
        muscles=tuple(spec.muscles),
        polygon=shape(spec.polygon),
        polyline=shape(spec.polyline),
        width_cm=spec.width_cm,
        circle=circle,
        radius_cm=spec.radius_cm,
        path=shape(spec.path),
    )


def _landmarks_from_spec(spec: LandmarkSpec) -> list[Landmark]:
    if not spec.paired:
        return [
            Landmark.model_construct(
                id=spec.id, name=spec.name, side=Side.MIDLINE, point=spec.point
            )
        ]
    return [
        Landmark.model_construct(
            id=f"{spec.id}-{side}",
            name=f"{spec.name} ({side})",
            side=side,
            point=_mirror([spec.point], side)[0],
        )
        for side in _SIDES
    ]


class Atlas:
    """Every region and landmark of the back, by id, with shapely geometry for spatial questions."""

    def __init__(
        self, data: AtlasFile, *, source: str, derived: dict[str, Any] | None = None
    ) -> None:
        self.source = source
        self._derived = derived
        self.regions: tuple[Region, ...] = tuple(
            region for spec in data.region for region in _regions_from_spec(spec)
        )
        self.landmarks: tuple[Landmark, ...] = tuple(
            landmark for spec in data.landmark for landmark in _landmarks_from_spec(spec)
        )
        self.outline = Outline.model_construct(
            head_center=data.outline.head_center,
            head_radius=data.outline.head_radius,
            body_right=tuple(data.outline.body),
        )
        self._by_id = {region.id: region for region in self.regions}
        if len(self._by_id) != len(self.regions):
            raise DataFileError("two regions share an id", where=source)
        self._landmarks_by_id = {landmark.id: landmark for landmark in self.landmarks}

    @classmethod
    def from_file(cls, path: Path) -> Atlas:
        return cls(validate(AtlasFile, read_toml(path), source=str(path)), source=str(path))

    @cached_property
    def geometry(self) -> AtlasGeometry:
        from backrub.atlas.geometry import AtlasGeometry

        return AtlasGeometry(self.regions)

    @cached_property
    def answers(self) -> SpatialAnswers:
        """Centroids, lines of work and crossed regions: the geometry's answers, read from the
        derived file when this is the shipped atlas and the file matches it (atlas.derived)."""
        return SpatialAnswers(self.regions, self._derived, lambda: self.geometry)

    @property
    def region_ids(self) -> tuple[str, ...]:
        return tuple(region.id for region in self.regions)

    def region(self, region_id: str) -> Region:
        try:
            return self._by_id[region_id]
        except KeyError:
            raise UnknownNameError(
                f"unknown region {region_id!r}; known regions: {', '.join(self.region_ids)}"
            ) from None

    def has_region(self, region_id: str) -> bool:
        return region_id in self._by_id

    def landmark(self, landmark_id: str) -> Landmark:
        try:
            return self._landmarks_by_id[landmark_id]
        except KeyError:
            known = ", ".join(self._landmarks_by_id)
            raise UnknownNameError(
                f"unknown landmark {landmark_id!r}; known landmarks: {known}"
            ) from None

    def mirror_of(self, region_id: str) -> Region | None:
        """The same region on the other side, or None for a midline region."""
        region = self.region(region_id)
        if region.side is Side.MIDLINE:
            return None
        other = Side.RIGHT if region.side is Side.LEFT else Side.LEFT
        return self._by_id[f"{region.base}-{other}"]

    def resolve(self, name: str, side: Side) -> Region:
        """A region from its base name and a side (`upper-trapezius` + left), or its full id."""
        if name in self._by_id:
            return self._by_id[name]
        candidate = f"{name}-{side}"
        if candidate in self._by_id:
            return self._by_id[candidate]
        raise UnknownNameError(
            f"unknown region {name!r}; known regions: {', '.join(self.region_ids)}"
        )

    def bases(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(region.base for region in self.regions))

    def in_area(self, area: Area, *, tissue: Tissue | None = Tissue.MUSCLE) -> tuple[Region, ...]:
        return tuple(
            region
            for region in self.regions
            if region.area is area and (tissue is None or region.tissue is tissue)
        )


@cache
def default_atlas() -> Atlas:
    """The atlas shipped with backrub (read once, then shared: it is immutable)."""
    source = "backrub/atlas/back.toml"
    text = resources.files("backrub.atlas").joinpath(derived.ATLAS_FILE).read_text("utf-8")
    return Atlas(
        shipped(AtlasFile, "backrub.atlas", derived.ATLAS_FILE, source=source),
        source=source,
        derived=derived.load(text),
    )
