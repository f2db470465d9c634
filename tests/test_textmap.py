"""The small back map of the terminal guide: size, marking, symmetry and sides."""

from __future__ import annotations

from backrub.atlas import Atlas
from backrub.cli.textmap import (
    DEFAULT_HEIGHT,
    DEFAULT_WIDTH,
    Cell,
    back_map,
    cells,
    raster,
)


def marked(grid: list[list[Cell]]) -> set[tuple[int, int]]:
    return {(r, c) for r, row in enumerate(grid) for c, cell in enumerate(row) if cell is Cell.HERE}


def test_the_map_has_the_expected_size(atlas: Atlas) -> None:
    grid = cells(raster(atlas))
    assert len(grid) == DEFAULT_HEIGHT
    assert {len(row) for row in grid} == {DEFAULT_WIDTH}
    lines = back_map(atlas).plain.split("\n")
    assert len(lines) == DEFAULT_HEIGHT
    assert {len(line) for line in lines} == {DEFAULT_WIDTH + 4}  # "L " and " R" either side
    bigger = cells(raster(atlas, 33, 17))
    assert (len(bigger), len(bigger[0])) == (17, 33)


def test_the_raster_is_made_once_per_size(atlas: Atlas) -> None:
    assert raster(atlas) is raster(atlas)
    assert raster(atlas, 33, 17) is not raster(atlas)


def test_nothing_is_bright_without_a_step(atlas: Atlas) -> None:
    assert marked(cells(raster(atlas))) == set()


def test_the_current_regions_cells_and_only_those_are_bright(atlas: Atlas) -> None:
    grid = raster(atlas)
    for region_id in ("upper-trapezius-left", "paraspinal-lower-right", "neck-left", "psis-left"):
        index = grid.region_ids.index(region_id)
        here = marked(cells(grid, {region_id}))
        assert here, region_id
        # Every bright cell is covered by the region; every cell it mostly covers is bright.
        assert all(grid.share[index][r, c] > 0 for r, c in here), region_id
        mostly = {
            (int(r), int(c)) for r, c in zip(*(grid.share[index] >= 0.5).nonzero(), strict=True)
        }
        assert mostly <= here, region_id


def test_a_midline_highlight_is_symmetric(atlas: Atlas) -> None:
    for here in ({"spine"}, {"paraspinal-upper-left", "paraspinal-upper-right"}):
        grid = cells(raster(atlas), here)
        assert marked(grid)
        for row in grid:
            assert row == row[::-1], here


def test_l_is_on_the_left_with_the_receivers_left_side(atlas: Atlas) -> None:
    grid = raster(atlas)
    lines = back_map(atlas).plain.split("\n")
    shoulder = lines[grid.shoulder_row]
    assert shoulder.startswith("L ") and shoulder.endswith(" R")
    assert all(
        not line.strip().startswith(("L", "R"))
        for n, line in enumerate(lines)
        if n != grid.shoulder_row
    )
    middle = DEFAULT_WIDTH // 2
    left = marked(cells(grid, {"upper-trapezius-left"}))
    right = marked(cells(grid, {"upper-trapezius-right"}))
    assert all(c < middle for _, c in left)
    assert all(c > middle for _, c in right)


def test_bone_and_muscle_look_different(atlas: Atlas) -> None:
    grid = cells(raster(atlas))
    middle = DEFAULT_WIDTH // 2
    spine_column = [row[middle] for row in grid[3:10]]
    assert set(spine_column) == {Cell.BONE}
    assert grid[6][middle - 3] is Cell.MUSCLE
    assert grid[0][0] is Cell.OUTSIDE
