"""The back as a map: frame, regions, tissue kinds, landmarks; fitted to a person."""

from backrub.atlas.atlas import Atlas, default_atlas
from backrub.atlas.fit import BodyFit
from backrub.atlas.geometry import AtlasGeometry
from backrub.atlas.model import Area, Landmark, Point, Region, Side, Tissue

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
