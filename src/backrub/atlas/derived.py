"""The spatial answers planning needs, worked out once by the geometry and kept beside the atlas.

A plan asks the shipped atlas the same few questions every time: each region's middle, its line
of work, and which bone, caution or muscle regions that line crosses. Importing numpy and shapely
to answer them would cost more than the rest of `backrub plan` together, so `back.derived.json`
holds the answers the geometry (`AtlasGeometry`) gave for `back.toml`. The geometry stays the
single source of truth: the file records a checksum of the atlas text it was made from (an edited
atlas is answered by shapely again until the file is rewritten), `tests/test_atlas_derived.py`
checks that every answer equals what the geometry computes now, and `derived.write()` writes
the file again:

    python -c "from backrub.atlas import derived; derived.write()"

Any other question, or another atlas, goes to the geometry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

from backrub.atlas.model import Point, Region, Tissue
from backrub.datafile import text_checksum

if TYPE_CHECKING:
    from backrub.atlas.geometry import AtlasGeometry

ATLAS_FILE = "back.toml"
DERIVED_FILE = "back.derived.json"
DERIVED_VERSION = 1


def checksum(atlas_text: str) -> str:
    """What ties the derived file to one atlas text."""
    return text_checksum(atlas_text)


def stroke_path_through(region: Region, centroid: Point) -> tuple[Point, ...]:
    """The region's line of work; a region without one gets a short line through its middle."""
    if region.path is not None:
        return region.path
    x, y = centroid
    return ((x, y - 0.01), (x, y + 0.01))


def compute(geometry: AtlasGeometry) -> dict[str, Any]:
    """Every answer the file holds, as the geometry gives it now (without the checksum)."""
    regions: dict[str, Any] = {}
    for region in geometry.regions:
        path = geometry.stroke_path(region.id)
        regions[region.id] = {
            "centroid": list(geometry.centroid(region.id)),
            "crossed": {tissue.value: geometry.crossed(path, tissue=tissue) for tissue in Tissue},
        }
    return {"version": DERIVED_VERSION, "regions": regions}


def load(atlas_text: str) -> dict[str, Any] | None:
    """The stored answers if they were made from this atlas text, else None."""
    try:
        text = resources.files("backrub.atlas").joinpath(DERIVED_FILE).read_text("utf-8")
    except OSError:
        return None
    data: dict[str, Any] = json.loads(text)
    if data.get("version") != DERIVED_VERSION or data.get("atlas") != checksum(atlas_text):
        return None
    return data


class SpatialAnswers:
    """The atlas's spatial answers for planning and the rules: from the derived file when it
    matches, from the geometry otherwise (and for any path the file does not know)."""

    def __init__(
        self,
        regions: Sequence[Region],
        derived: dict[str, Any] | None,
        geometry: Callable[[], AtlasGeometry],
    ) -> None:
        self._geometry = geometry
        self._centroids: dict[str, Point] = {}
        self._paths: dict[str, tuple[Point, ...]] = {}
        self._crossed: dict[tuple[tuple[Point, ...], Tissue], tuple[str, ...]] = {}
        if derived is None:
            return
        known = derived["regions"]
        if set(known) != {region.id for region in regions}:
            return
        for region in regions:
            entry = known[region.id]
            x, y = entry["centroid"]
            centroid = (float(x), float(y))
            path = stroke_path_through(region, centroid)
            self._centroids[region.id] = centroid
            self._paths[region.id] = path
            for tissue in Tissue:
                self._crossed[(path, tissue)] = tuple(entry["crossed"][tissue.value])

    @property
    def geometry(self) -> AtlasGeometry:
        return self._geometry()

    @property
    def from_file(self) -> bool:
        """Whether the derived file answers (else every question goes to the geometry)."""
        return bool(self._centroids)

    def centroid(self, region_id: str) -> Point:
        known = self._centroids.get(region_id)
        return known if known is not None else self.geometry.centroid(region_id)

    def stroke_path(self, region_id: str) -> tuple[Point, ...]:
        known = self._paths.get(region_id)
        return known if known is not None else self.geometry.stroke_path(region_id)

    def crossed(self, path: Sequence[Point], *, tissue: Tissue) -> list[str]:
        """Ids of the regions of one tissue that a stroke path touches, in atlas order."""
        known = self._crossed.get((tuple(path), tissue))
        return list(known) if known is not None else self.geometry.crossed(path, tissue=tissue)


def write() -> str:
    """Write the derived file for the shipped atlas from the geometry; its path."""
    from backrub.atlas.atlas import default_atlas

    folder = resources.files("backrub.atlas")
    atlas_text = folder.joinpath(ATLAS_FILE).read_text("utf-8")
    data = {"atlas": checksum(atlas_text), **compute(default_atlas().geometry)}
    target = folder.joinpath(DERIVED_FILE)
    text = json.dumps(data, indent=1) + "\n"
    with resources.as_file(target) as path:
        path.write_text(text, encoding="utf-8")
        return str(path)
