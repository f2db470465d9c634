"""A sampled tool path: one row per control period, as parallel numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import numpy.typing as npt

from backrub.atlas import BodyFit
from backrub.method.vocabulary import Contact, Technique
from backrub.robot.figures import Figures
from backrub.robot.regions import RegionGrid
from backrub.safety.restrictions import Restrictions

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Codes stored per sample: the index of the technique or contact in these tuples.
TECHNIQUES: tuple[Technique, ...] = tuple(Technique)
CONTACTS: tuple[Contact, ...] = tuple(Contact)


# The per-sample arrays of a ToolPath, in column order.
SAMPLE_FIELDS = (
    "t",
    "frame_xy",
    "position",
    "normal",
    "quaternion",
    "lift",
    "target",
    "pulse",
    "force",
    "speed",
    "region",
    "level",
    "technique",
    "contact",
    "step",
    "working",
)


def technique_code(technique: Technique) -> int:
    return TECHNIQUES.index(technique)


def contact_code(contact: Contact) -> int:
    return CONTACTS.index(contact)


@dataclass(frozen=True)
class PathContext:
    """What the checks need besides the samples: the figures, the map, the plan's limits."""

    figures: Figures
    grid: RegionGrid
    fit: BodyFit
    restrictions: Restrictions
    step_ids: tuple[str, ...]
    step_starts: tuple[float, ...]
    # Per step: the elbow was already at work on the step before (U7: it may go deeper).
    elbow_warm: tuple[bool, ...]

    def contact_table(self, values: dict[Contact, float]) -> FloatArray:
        return np.array([values[contact] for contact in CONTACTS], dtype=float)

    @property
    def areas_m2(self) -> FloatArray:
        return self.contact_table({c: self.figures.tool(c).area_m2 for c in CONTACTS})

    @property
    def radii_m(self) -> FloatArray:
        return self.contact_table({c: self.figures.tool(c).radius_m for c in CONTACTS})

    def level_forces(self) -> FloatArray:
        """(contacts, 6) table: the held force per contact and level (column 0 unused)."""
        table = np.zeros((len(CONTACTS), 6))
        for row, contact in enumerate(CONTACTS):
            for level in range(1, 6):
                table[row, level] = self.figures.level_force(contact, level)
        return table

    def level_tops(self) -> FloatArray:
        table = np.zeros((len(CONTACTS), 6))
        for row, contact in enumerate(CONTACTS):
            forces = self.figures.levels.for_contact(contact)
            for level in range(1, 6):
                table[row, level] = forces.top(level)
        return table


@dataclass(frozen=True)
class ToolPath:
    """The path at `rate_hz`. Lengths in metres, forces in newtons, times in seconds.

    `position` is the tool centre: the skin point plus the tool radius (and any lift) along the
    outward normal. `quaternion` (w, x, y, z) turns the tool's z axis onto the inward normal.
    `target` is the force asked of the controller before the rising-rate limit, `pulse` the
    strike shape of percussion (1 for every other technique); `force` is what is commanded.
    """

    context: PathContext
    rate_hz: float
    t: FloatArray
    frame_xy: FloatArray  # (n, 2) back-frame units, for the map and the region look-up
    position: FloatArray  # (n, 3)
    normal: FloatArray  # (n, 3) outward
    quaternion: FloatArray  # (n, 4)
    lift: FloatArray  # metres above the skin beyond the tool radius
    target: FloatArray
    pulse: FloatArray
    force: FloatArray
    speed: FloatArray
    region: npt.NDArray[np.int16]
    level: npt.NDArray[np.int8]
    technique: npt.NDArray[np.int8]
    contact: npt.NDArray[np.int8]
    step: npt.NDArray[np.int32]
    working: BoolArray  # on a line of work (not moving between lines, not lifted)
    events: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.t)

    @cached_property
    def touching(self) -> BoolArray:
        return self.working & (self.force > 0)

    @cached_property
    def pressure_kpa(self) -> FloatArray:
        return np.asarray(self.force / self.context.areas_m2[self.contact] / 1000, dtype=float)

    @property
    def duration(self) -> float:
        return float(self.t[-1]) if len(self.t) else 0.0

    def window(self, start: int, end: int) -> ToolPath:
        """Samples start..end-1 as a path of their own."""
        cut = slice(start, end)
        fields = {name: getattr(self, name)[cut] for name in SAMPLE_FIELDS}
        return replace(self, **fields)

    def index_at(self, time_s: float) -> int:
        """The first sample at or after a time."""
        return int(np.searchsorted(self.t, time_s - 1e-9))
