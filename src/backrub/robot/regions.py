"""Which region lies under each sample: a fine grid over the back frame, looked up in bulk.

Testing hundreds of thousands of points against every region polygon is too slow for a whole
session at 500 Hz, so each region is rasterized once onto a grid about a millimetre fine and
samples are looked up by index. Where regions overlap, the cell takes the one that limits force
most: bone, then the kidney area, then muscle (in atlas order).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import shapely

from backrub.atlas import Area, Atlas, Tissue, default_atlas

IntArray = npt.NDArray[np.int16]
NONE = -1  # no region under the sample (between regions or off the map)

# Grid extent and steps in back-frame units: about 1 mm across and 1.2 mm down on an average back.
X0, X1, DX = -1.05, 1.05, 0.005
Y0, Y1, DY = -0.06, 1.16, 0.002
_PRECEDENCE = {Tissue.BONE: 0, Tissue.CAUTION: 1, Tissue.MUSCLE: 2}


@dataclass(frozen=True)
class RegionGrid:
    """Region ids, their tissue and area, and the raster that finds them."""

    ids: tuple[str, ...]
    bases: tuple[str, ...]
    tissue: tuple[Tissue, ...]
    area: tuple[Area, ...]
    cells: IntArray  # (rows, columns) region index or NONE

    def lookup(self, x: npt.ArrayLike, y: npt.ArrayLike) -> IntArray:
        """Region index under each back-frame point (NONE off the map)."""
        xs = np.asarray(x, dtype=float)
        ys = np.asarray(y, dtype=float)
        col = np.floor((xs - X0) / DX).astype(np.int64)
        row = np.floor((ys - Y0) / DY).astype(np.int64)
        rows, cols = self.cells.shape
        inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
        found = np.full(xs.shape, NONE, dtype=np.int16)
        found[inside] = self.cells[row[inside], col[inside]]
        return found

    def point_lookup(self) -> Callable[[float, float], int]:
        """A look-up for one point at a time in plain Python (a control loop's per-step use)."""
        rows = self.cells.tolist()
        height, width = len(rows), len(rows[0])

        def lookup(x: float, y: float) -> int:
            col = math.floor((x - X0) / DX)
            row = math.floor((y - Y0) / DY)
            if 0 <= col < width and 0 <= row < height:
                found: int = rows[row][col]
                return found
            return NONE

        return lookup

    def mask(
        self, wanted: set[str] | frozenset[str], *, by_base: bool = False
    ) -> npt.NDArray[np.bool_]:
        """A look-up table over region indexes (plus a final slot for NONE): True if wanted."""
        names = self.bases if by_base else self.ids
        return np.array([name in wanted for name in names] + [False], dtype=bool)

    def tissue_mask(self, tissue: Tissue) -> npt.NDArray[np.bool_]:
        return np.array([kind is tissue for kind in self.tissue] + [False], dtype=bool)

    def area_mask(self, area: Area) -> npt.NDArray[np.bool_]:
        return np.array([kind is area for kind in self.area] + [False], dtype=bool)

    def name(self, index: int) -> str:
        return "none" if index == NONE else self.ids[index]


def _raster(atlas: Atlas) -> IntArray:
    xs = X0 + DX * (np.arange(round((X1 - X0) / DX)) + 0.5)
    ys = Y0 + DY * (np.arange(round((Y1 - Y0) / DY)) + 0.5)
    cells = np.full((len(ys), len(xs)), NONE, dtype=np.int16)
    rank = np.full(cells.shape, 99, dtype=np.int16)
    geometry = atlas.geometry
    for index, region in enumerate(atlas.regions):
        shape = geometry.shapes[index]
        left, top, right, bottom = shape.bounds
        c0, c1 = np.searchsorted(xs, [left, right])
        r0, r1 = np.searchsorted(ys, [top, bottom])
        grid_x, grid_y = np.meshgrid(xs[c0:c1], ys[r0:r1])
        inside = shapely.intersects_xy(shape, grid_x, grid_y)
        better = inside & (rank[r0:r1, c0:c1] > _PRECEDENCE[region.tissue])
        cells[r0:r1, c0:c1][better] = index
        rank[r0:r1, c0:c1][better] = _PRECEDENCE[region.tissue]
    return cells


def region_grid(atlas: Atlas | None = None) -> RegionGrid:
    atlas = atlas or default_atlas()
    if atlas is default_atlas():
        return _default_grid()
    return _grid(atlas)


@cache
def _default_grid() -> RegionGrid:
    return _grid(default_atlas())


def _grid(atlas: Atlas) -> RegionGrid:
    return RegionGrid(
        ids=tuple(region.id for region in atlas.regions),
        bases=tuple(region.base for region in atlas.regions),
        tissue=tuple(region.tissue for region in atlas.regions),
        area=tuple(region.area for region in atlas.regions),
        cells=_raster(atlas),
    )
