"""A small back map in text for the terminal guide: where to work, at a glance.

The atlas is rasterised once per size into a grid of cells (one vectorized `membership` call over
a few sample points in every cell); marking the regions of a step only recolours that grid.
Seen from behind, as the giver stands: the receiver's left is on the left.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from rich.text import Text

from backrub.atlas import Atlas, Tissue

DEFAULT_WIDTH = 25
DEFAULT_HEIGHT = 13
# The frame shown: a little wider than the shoulder tips, from the top of the head to below S2.
X_RANGE = (-1.12, 1.12)
Y_RANGE = (-0.24, 1.18)
SAMPLES = 3  # sample points per cell, across and down: thin ridges still show
# A cell belongs to what covers at least this share of it (a third of its sample points).
SHARE = 1 / 3

LEFT_LABEL = "L"
RIGHT_LABEL = "R"


class Cell(StrEnum):
    """What a cell of the map shows."""

    OUTSIDE = "outside"
    HEAD = "head"
    BODY = "body"  # inside the outline, in no region
    MUSCLE = "muscle"
    CAUTION = "caution"
    BONE = "bone"
    HERE = "here"  # a region of the current step


GLYPH = {
    Cell.OUTSIDE: " ",
    Cell.HEAD: "░",
    Cell.BODY: "░",
    Cell.MUSCLE: "░",
    Cell.CAUTION: "░",
    Cell.BONE: "·",
    Cell.HERE: "█",
}
STYLE = {
    Cell.OUTSIDE: "",
    Cell.HEAD: "grey35",
    Cell.BODY: "grey35",
    Cell.MUSCLE: "grey62",
    Cell.CAUTION: "dark_orange3",
    Cell.BONE: "dim",
    Cell.HERE: "bold bright_green",
}
LABEL_STYLE = "bold"


@dataclass(frozen=True)
class Raster:
    """The atlas on a grid: each region's share of every cell, and the cells inside the body."""

    width: int
    height: int
    region_ids: tuple[str, ...]
    tissues: tuple[Tissue, ...]
    share: npt.NDArray[np.float64]  # (regions, height, width), 0..1
    body: npt.NDArray[np.bool_]  # (height, width)
    head: npt.NDArray[np.bool_]  # (height, width)

    @property
    def shoulder_row(self) -> int:
        """The row level with the shoulders, where L and R are written."""
        return row_of(0.2, self.height)


def row_of(y: float, height: int) -> int:
    low, high = Y_RANGE
    return min(height - 1, max(0, int((y - low) / (high - low) * height)))


def _sample_points(width: int, height: int) -> tuple[npt.NDArray[np.float64], ...]:
    """Sample points, SAMPLES x SAMPLES per cell, ordered cell by cell (row-major)."""
    offsets = (np.arange(SAMPLES) + 0.5) / SAMPLES
    xs = X_RANGE[0] + (np.arange(width)[:, None] + offsets[None, :]).ravel() / width * (
        X_RANGE[1] - X_RANGE[0]
    )
    ys = Y_RANGE[0] + (np.arange(height)[:, None] + offsets[None, :]).ravel() / height * (
        Y_RANGE[1] - Y_RANGE[0]
    )
    # Grid of (height*SAMPLES) x (width*SAMPLES) points, then grouped per cell.
    grid_y, grid_x = np.meshgrid(ys, xs, indexing="ij")
    per_cell = (height, SAMPLES, width, SAMPLES)
    cell_x = grid_x.reshape(per_cell).transpose(0, 2, 1, 3).reshape(-1)
    cell_y = grid_y.reshape(per_cell).transpose(0, 2, 1, 3).reshape(-1)
    return cell_x, cell_y


def _inside_outline(
    atlas: Atlas, xs: npt.NDArray[np.float64], ys: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    import shapely  # the atlas already depends on it; imported here to keep the top light

    outline = atlas.outline
    body = shapely.Polygon(outline.body)
    cx, cy = outline.head_center
    rx, ry = outline.head_radius
    in_head = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1.0
    in_body = np.asarray(shapely.intersects_xy(body, xs, ys), dtype=bool)
    return in_body, in_head & ~in_body


@lru_cache(maxsize=8)
def raster(atlas: Atlas, width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT) -> Raster:
    """The atlas rasterised to `width` x `height` cells (cached: the atlas never changes)."""
    if width < 5 or height < 5:
        raise ValueError(f"a back map needs at least 5 x 5 cells, not {width} x {height}")
    xs, ys = _sample_points(width, height)
    table = atlas.geometry.membership(xs, ys)  # (regions, cells * SAMPLES**2)
    per_cell = SAMPLES * SAMPLES
    share = table.reshape(len(atlas.regions), height, width, per_cell).mean(axis=3)
    in_body, in_head = _inside_outline(atlas, xs, ys)
    return Raster(
        width=width,
        height=height,
        region_ids=tuple(region.id for region in atlas.regions),
        tissues=tuple(region.tissue for region in atlas.regions),
        share=share,
        body=in_body.reshape(height, width, per_cell).mean(axis=2) >= SHARE,
        head=in_head.reshape(height, width, per_cell).mean(axis=2) >= SHARE,
    )


def _tissue_share(grid: Raster, tissue: Tissue) -> npt.NDArray[np.float64]:
    rows = [i for i, t in enumerate(grid.tissues) if t is tissue]
    if not rows:
        return np.zeros((grid.height, grid.width))
    return np.asarray(grid.share[rows].max(axis=0), dtype=np.float64)


def cells(grid: Raster, here: Collection[str] = ()) -> list[list[Cell]]:
    """What every cell shows, row by row (top first), with the regions in `here` marked.

    A region too small to fill a third of any cell still gets the cell it covers most, so a
    step on a small spot is never missing from the map.
    """
    kinds = np.full((grid.height, grid.width), Cell.OUTSIDE.value, dtype=object)
    kinds[grid.head] = Cell.HEAD.value
    kinds[grid.body] = Cell.BODY.value
    for tissue, kind in (
        (Tissue.MUSCLE, Cell.MUSCLE),
        (Tissue.CAUTION, Cell.CAUTION),
        (Tissue.BONE, Cell.BONE),
    ):
        kinds[_tissue_share(grid, tissue) >= SHARE] = kind.value
    wanted = [i for i, region_id in enumerate(grid.region_ids) if region_id in here]
    for index in wanted:
        share = grid.share[index]
        marked = share >= SHARE
        if not marked.any() and share.max() > 0:
            marked = share == share.max()
        kinds[marked] = Cell.HERE.value
    return [[Cell(value) for value in row] for row in kinds]


def render(grid: Raster, here: Collection[str] = ()) -> Text:
    """The map as Rich text: `height` lines, each `L ` + the cells + ` R` on the shoulder row."""
    text = Text(no_wrap=True, overflow="crop")
    shoulder = grid.shoulder_row
    for number, row in enumerate(cells(grid, here)):
        if number:
            text.append("\n")
        text.append(f"{LEFT_LABEL} " if number == shoulder else "  ", style=LABEL_STYLE)
        for cell in row:
            text.append(GLYPH[cell], style=STYLE[cell])
        text.append(f" {RIGHT_LABEL}" if number == shoulder else "  ", style=LABEL_STYLE)
    return text


def back_map(
    atlas: Atlas,
    here: Collection[str] = (),
    *,
    width: int = DEFAULT_WIDTH,
    height: int = DEFAULT_HEIGHT,
) -> Text:
    """The back map as Rich text with the regions in `here` drawn bright."""
    return render(raster(atlas, width, height), here)
