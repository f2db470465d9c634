"""What screening (or a live event) takes out of a session: regions, pressure, techniques."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from backrub.method.vocabulary import Contact, PressureLevel, Technique


class Restrictions(BaseModel):
    """Limits every plan and step must respect. Each entry keeps the reason a person can read."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    excluded_regions: dict[str, str] = {}
    max_pressure: PressureLevel | None = None
    max_pressure_reason: str = ""
    removed_techniques: dict[Technique, str] = {}
    removed_contacts: dict[Contact, str] = {}

    def merged(self, other: Restrictions) -> Restrictions:
        """Both sets of limits at once: the stricter pressure cap and the union of removals."""
        caps = [r for r in (self, other) if r.max_pressure is not None]
        tightest = min(caps, key=lambda r: r.max_pressure or 0) if caps else None
        return Restrictions(
            excluded_regions={**self.excluded_regions, **other.excluded_regions},
            max_pressure=tightest.max_pressure if tightest else None,
            max_pressure_reason=tightest.max_pressure_reason if tightest else "",
            removed_techniques={**self.removed_techniques, **other.removed_techniques},
            removed_contacts={**self.removed_contacts, **other.removed_contacts},
        )

    @property
    def is_empty(self) -> bool:
        return not (
            self.excluded_regions
            or self.max_pressure is not None
            or self.removed_techniques
            or self.removed_contacts
        )
