"""The robot's figures (forces, pressures, stiffness, motion), read from figures.toml."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backrub.datafile import package_toml, validate
from backrub.method.vocabulary import FINGER_CONTACTS, Contact, PressureLevel

Positive = Annotated[float, Field(gt=0)]
Range = tuple[Positive, Positive]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LevelForces(_Strict):
    choice: str
    range_n: Annotated[list[Range], Field(min_length=5, max_length=5)]

    def target(self, level: int) -> float:
        """The force held at a level: the middle of its range."""
        low, high = self.range_n[level - 1]
        return (low + high) / 2

    def top(self, level: int) -> float:
        return self.range_n[level - 1][1]


class Levels(_Strict):
    broad: LevelForces
    finger: LevelForces

    def for_contact(self, contact: Contact) -> LevelForces:
        return self.finger if contact in FINGER_CONTACTS else self.broad


class Caps(_Strict):
    choice: str
    finger_force_n: Positive
    muscle_pressure_kpa: Positive
    bone_force_n: Positive
    bone_pressure_kpa: Positive
    kidney_max_level: Annotated[int, Field(ge=1, le=5)]
    neck_force_n: Positive
    iso_fraction: Annotated[float, Field(gt=0, le=1)]
    iso_back_force_n: Positive
    iso_neck_force_n: Positive
    shaping_margin: Annotated[float, Field(gt=0, le=1)]
    ease_ahead_s: Annotated[float, Field(ge=0, le=2)]

    @property
    def back_ceiling_n(self) -> float:
        return self.iso_fraction * self.iso_back_force_n

    @property
    def neck_ceiling_n(self) -> float:
        return self.iso_fraction * self.iso_neck_force_n


class Rhythm(_Strict):
    hz: Positive
    radius_m: Positive


class Strike(_Strict):
    hz: Positive
    lift_m: Positive


class Motion(_Strict):
    source: str
    max_speed_m_s: Positive
    stroke_speed_m_s: Range
    sweep_speed_m_s: Positive
    compression_speed_m_s: Positive
    percussion_speed_m_s: Positive
    kneading_hz: Range
    percussion_hz: Range
    kneading: Rhythm
    circles: Rhythm
    mild_rubbing: Rhythm
    percussion_strike: Strike
    compression_cycle_s: Positive
    compression_rest: Annotated[float, Field(ge=0, le=1)]
    transit_speed_m_s: Positive
    transit_lift_m: Positive
    force_rate_n_s: Positive

    @model_validator(mode="after")
    def _rhythms_in_their_ranges(self) -> Motion:
        # The chosen rhythms must sit inside the published ranges they are taken from.
        low, high = self.kneading_hz
        for name, rhythm in (("kneading", self.kneading), ("circles", self.circles)):
            if not low <= rhythm.hz <= high:
                raise ValueError(f"{name} at {rhythm.hz} Hz is outside {low}-{high} Hz")
        low, high = self.percussion_hz
        if not low <= self.percussion_strike.hz <= high:
            raise ValueError(
                f"percussion at {self.percussion_strike.hz} Hz is outside {low}-{high}"
            )
        low, high = self.stroke_speed_m_s
        for speed in (self.sweep_speed_m_s, self.compression_speed_m_s, self.percussion_speed_m_s):
            if not low <= speed <= high:
                raise ValueError(f"stroke speed {speed} m/s is outside {low}-{high} m/s")
        return self


class Live(_Strict):
    """Live changes: the requirements (..._within_s) and the commanded ramps, which are faster."""

    choice: str
    level_ramp_s: Positive
    pain_within_s: Positive
    stop_within_s: Positive
    pain_s: Positive
    pain_factor: Annotated[float, Field(gt=0, lt=1)]
    stop_s: Positive
    stop_lift_m: Positive
    lift_s: Positive
    horizon_s: Positive


class Tissue(_Strict):
    choice: str
    muscle_n_m: Positive
    caution_n_m: Positive
    bone_n_m: Positive
    damping_ratio: Positive
    mass_kg: Positive
    friction: Positive
    regions: dict[str, Positive]


class Tool(_Strict):
    area_cm2: Positive
    radius_m: Positive
    shape: Literal["sphere", "pad", "capsule"]

    @property
    def area_m2(self) -> float:
        return self.area_cm2 * 1e-4


class Figures(_Strict):
    version: Annotated[int, Field(ge=1, le=1)]
    sources: dict[str, str]
    levels: Levels
    caps: Caps
    motion: Motion
    live: Live
    tissue: Tissue
    tools_choice: str
    tools: dict[Contact, Tool]

    @model_validator(mode="after")
    def _every_contact_has_a_tool(self) -> Figures:
        missing = [contact.value for contact in Contact if contact not in self.tools]
        if missing:
            raise ValueError(f"no tool for {', '.join(missing)}")
        return self

    def tool(self, contact: Contact) -> Tool:
        return self.tools[contact]

    def level_force(self, contact: Contact, level: PressureLevel | int) -> float:
        """The normal force (N) a contact holds at a pressure level, before any cap."""
        return self.levels.for_contact(contact).target(int(level))


@cache
def robot_figures() -> Figures:
    """The figures shipped with backrub (read once; immutable)."""
    source = "backrub/robot/figures.toml"
    return validate(Figures, package_toml("backrub.robot", "figures.toml"), source=source)
