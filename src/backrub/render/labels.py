"""Region labels in two columns beside the body, spread so they never overlap, with leader lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from backrub.atlas import Atlas, Region, Side
from backrub.atlas.model import Point

# Ids are already short plain names; these few read better spelled out a little.
_SHORT_LABELS = {
    "psis": "pelvic knob (PSIS)",
    "below-psis": "below the pelvic knob",
    "iliac-crest-attachments": "iliac crest muscles",
    "kidney": "kidney area",
    "intercostal": "intercostals",
    "skull-base": "under the skull",
    "neck": "back of the neck",
    "occipital-ridge": "base of the skull",
    "scapular-spine": "shoulder blade ridge",
    "shoulder-blade": "shoulder blade muscles",
    "paraspinal-upper": "paraspinals (upper)",
    "paraspinal-lower": "paraspinals (lower)",
    "teres": "teres major / minor",
}

# Average advance of a sans-serif glyph as a share of the font size; only used to size the
# label columns, so a rough figure is fine.
_GLYPH_WIDTH = 0.58


class Column(StrEnum):
    LEFT = "left"
    RIGHT = "right"


def short_label(base: str) -> str:
    return _SHORT_LABELS.get(base, base.replace("-", " "))


def text_width(text: str, font_size: float) -> float:
    return len(text) * font_size * _GLYPH_WIDTH


def base_name(region: Region) -> str:
    """The region's name without the side, for a label that stands for both sides."""
    if region.side is Side.MIDLINE:
        return region.name
    return region.name.removesuffix(f" ({region.side})")


@dataclass(frozen=True)
class PlacedLabel:
    base: str
    text: str
    full_name: str
    column: Column
    region_id: str
    anchor: Point
    y: float


def _region_for(atlas: Atlas, base: str, column: Column) -> Region:
    # A paired region is labelled on the side of its column, so the leader line stays short.
    regions = [region for region in atlas.regions if region.base == base]
    for region in regions:
        if region.side.value == column.value:
            return region
    return regions[0]


def place_labels(
    atlas: Atlas, *, anchor_px: dict[str, Point], top: float, bottom: float, line_height: float
) -> list[PlacedLabel]:
    """One label per region base. Bases are taken top to bottom and dealt to the two columns in
    turn, which keeps both columns equally full; within a column labels sit as close to their
    region's height as the line spacing allows."""
    bases = sorted(
        atlas.bases(),
        key=lambda base: anchor_px[_region_for(atlas, base, Column.RIGHT).id][1],
    )
    placed: list[PlacedLabel] = []
    for number, column in enumerate(Column):
        chosen = [_region_for(atlas, base, column) for base in bases[number::2]]
        wanted = [anchor_px[region.id][1] for region in chosen]
        for region, y in zip(chosen, spread(wanted, line_height, top, bottom), strict=True):
            placed.append(
                PlacedLabel(
                    base=region.base,
                    text=short_label(region.base),
                    full_name=base_name(region),
                    column=column,
                    region_id=region.id,
                    anchor=anchor_px[region.id],
                    y=y,
                )
            )
    return placed


def spread(wanted: Sequence[float], gap: float, top: float, bottom: float) -> list[float]:
    """Positions at least `gap` apart, each as near its wanted position as possible; a crowded
    run of labels is centred on the mean of what its members want. `wanted` must be sorted."""
    blocks: list[tuple[int, int, float]] = []  # first index, last index, position of the first
    for index, want in enumerate(wanted):
        blocks.append((index, index, want))
        while len(blocks) > 1:
            (first_a, last_a, at_a), (_, last_b, at_b) = blocks[-2], blocks[-1]
            if at_a + (last_a - first_a + 1) * gap <= at_b:
                break
            count = last_b - first_a + 1
            mean = sum(wanted[first_a : last_b + 1]) / count
            blocks[-2:] = [(first_a, last_b, mean - (count - 1) * gap / 2)]
    positions = [
        at + (index - first) * gap for first, last, at in blocks for index in range(first, last + 1)
    ]
    for index in range(len(positions)):
        floor = top if index == 0 else positions[index - 1] + gap
        positions[index] = max(positions[index], floor)
    for index in reversed(range(len(positions))):
        ceiling = bottom if index == len(positions) - 1 else positions[index + 1] - gap
        positions[index] = min(positions[index], ceiling)
    return positions
