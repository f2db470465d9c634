"""What the safety rules need to know besides the steps: the atlas, the limits, the tolerances."""

from __future__ import annotations

from dataclasses import dataclass, field

from backrub.atlas import Atlas, default_atlas
from backrub.method.vocabulary import Technique
from backrub.safety.restrictions import Restrictions

# About two minutes of knot work before it gives way (U8).
KNOT_LIMIT_SECONDS = 120.0
# Firm work on the top of the trapezius, per side and session, before it counts as overwork (U4).
UPPER_TRAPEZIUS_LIMIT_SECONDS = 360.0
# Aftercare on a released knot lasts 30-60 s (U9); a shorter pause does not end the knot.
AFTERCARE_MIN_SECONDS = 30.0
# Passes of palm compressions over an area before deep work there (O4).
WARM_UP_PASSES = 2


@dataclass(frozen=True)
class SafetyContext:
    """The limits in force: screening restrictions, live stops, and how exact balance must be."""

    atlas: Atlas = field(default_factory=default_atlas)
    restrictions: Restrictions = field(default_factory=Restrictions)
    upper_trapezius_stopped: bool = False
    # Sides may differ by this fraction of the larger side, or by the floor in seconds.
    balance_tolerance: float = 0.02
    balance_floor_seconds: float = 2.0
    # A live session that was stopped early need not end with the closing sequence.
    require_closing: bool = True
    knot_limit_seconds: float = KNOT_LIMIT_SECONDS

    @property
    def percussion_allowed(self) -> bool:
        return Technique.PERCUSSION not in self.restrictions.removed_techniques
