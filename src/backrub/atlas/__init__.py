"""The back as a map: frame, regions, tissue kinds, landmarks; fitted to a person."""

from typing import TYPE_CHECKING, Any

from backrub.atlas.atlas import Atlas, default_atlas
from backrub.atlas.fit import BodyFit
from backrub.atlas.model import Area, Landmark, Point, Region, Side, Tissue

if TYPE_CHECKING:
    from backrub.atlas.geometry import AtlasGeometry


def __getattr__(name: str) -> Any:
    # The geometry brings numpy and shapely: loaded when first asked for, not with the atlas.
    if name == "AtlasGeometry":
        from backrub.atlas.geometry import AtlasGeometry

        return AtlasGeometry
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Area",
    "Atlas",
    "AtlasGeometry",
    "BodyFit",
    "Landmark",
    "Point",
    "Region",
    "Side",
    "Tissue",
    "default_atlas",
]
