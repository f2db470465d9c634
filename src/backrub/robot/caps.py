"""Per-sample caps, one small class each, every one a single vectorized check over all samples.

Modelled on a robot IK library's limits: each cap answers "which samples break me?" with one
boolean array; the checker runs them all and names the first failure: the cap, the method rule
it stands for, the region under the tool and the time. Force caps also give the force limit per
sample, which the sampler uses to shape the force before anything is checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from backrub.atlas import Area, Tissue
from backrub.method.vocabulary import FINGER_CONTACTS, Contact, PressureLevel, Technique
from backrub.robot.toolpath import (
    CONTACTS,
    TECHNIQUES,
    BoolArray,
    FloatArray,
    ToolPath,
    contact_code,
    technique_code,
)

# Slack for floating-point noise: a cap is broken by more than this many newtons (or m/s).
TOLERANCE = 1e-6
FIGURES = "figures"  # the rule of a cap that comes from the robot's figures, not the method


@dataclass(frozen=True)
class Breach:
    """The first sample that breaks a cap."""

    cap: str
    rule: str
    region: str
    time: float
    step: str
    message: str

    def one_line(self) -> str:
        return (
            f"rule {self.rule} ({self.cap}) at {self.time:.3f} s on {self.region} "
            f"in step {self.step}: {self.message}"
        )


def _in(codes: np.ndarray, wanted: Sequence[int]) -> BoolArray:
    return np.isin(codes, np.asarray(wanted))


class Cap:
    name: ClassVar[str]
    rule: ClassVar[str] = FIGURES

    def breaches(self, path: ToolPath) -> BoolArray:
        raise NotImplementedError

    def describe(self, path: ToolPath, index: int) -> str:
        return f"{self.name} broken"


class ForceCap(Cap):
    """A cap on the normal force: a limit per sample (inf where it does not apply)."""

    def limit(self, path: ToolPath) -> FloatArray:
        raise NotImplementedError

    def breaches(self, path: ToolPath) -> BoolArray:
        return path.touching & (path.force > self.limit(path) + TOLERANCE)

    def describe(self, path: ToolPath, index: int) -> str:
        force, limit = path.force[index], self.limit(path)[index]
        pressure = path.pressure_kpa[index]
        return f"force {force:.2f} N ({pressure:.0f} kPa) over the limit of {limit:.2f} N"


class IsoCeiling(ForceCap):
    name = "ISO/TS 15066 half"
    rule = "ISO/TS 15066"

    def limit(self, path: ToolPath) -> FloatArray:
        caps = path.context.figures.caps
        neck = path.context.grid.area_mask(Area.NECK)[path.region]
        return np.where(neck, caps.neck_ceiling_n, caps.back_ceiling_n)


class FingerForce(ForceCap):
    name = "thumb or fingertip force"
    rule = "G1"

    def limit(self, path: ToolPath) -> FloatArray:
        fingers = _in(path.contact, [contact_code(c) for c in FINGER_CONTACTS])
        return np.where(fingers, path.context.figures.caps.finger_force_n, np.inf)


class MusclePressure(ForceCap):
    name = "mean pressure on muscle"

    def limit(self, path: ToolPath) -> FloatArray:
        kpa = path.context.figures.caps.muscle_pressure_kpa
        return np.asarray(kpa * 1000 * path.context.areas_m2[path.contact], dtype=float)


class BoneCap(ForceCap):
    name = "bone force and pressure"
    rule = "X1"

    def limit(self, path: ToolPath) -> FloatArray:
        caps = path.context.figures.caps
        bone = path.context.grid.tissue_mask(Tissue.BONE)[path.region]
        by_pressure = caps.bone_pressure_kpa * 1000 * path.context.areas_m2[path.contact]
        return np.where(bone, np.minimum(caps.bone_force_n, by_pressure), np.inf)


class KidneyCap(ForceCap):
    name = "kidney area: light at most, no percussion"
    rule = "X2"

    def limit(self, path: ToolPath) -> FloatArray:
        top = path.context.level_tops()[:, path.context.figures.caps.kidney_max_level]
        kidney = path.context.grid.tissue_mask(Tissue.CAUTION)[path.region]
        return np.where(kidney, top[path.contact], np.inf)

    def breaches(self, path: ToolPath) -> BoolArray:
        kidney = path.context.grid.tissue_mask(Tissue.CAUTION)[path.region]
        struck = kidney & path.touching & (path.technique == technique_code(Technique.PERCUSSION))
        return np.asarray(super().breaches(path) | struck, dtype=bool)

    def describe(self, path: ToolPath, index: int) -> str:
        if path.technique[index] == technique_code(Technique.PERCUSSION):
            return "percussion over the kidney area"
        return super().describe(path, index)


class NeckCap(ForceCap):
    name = "neck: gentle, fingers or thumbs"
    rule = "X3"

    def limit(self, path: ToolPath) -> FloatArray:
        neck = path.context.grid.area_mask(Area.NECK)[path.region]
        return np.where(neck, path.context.figures.caps.neck_force_n, np.inf)

    def _wrong_contact(self, path: ToolPath) -> BoolArray:
        neck = path.context.grid.area_mask(Area.NECK)[path.region]
        fingers = _in(path.contact, [contact_code(c) for c in FINGER_CONTACTS])
        light_sweep = (path.technique == technique_code(Technique.SWEEP)) & (
            path.level <= PressureLevel.FEATHER
        )
        return np.asarray(neck & path.touching & ~fingers & ~light_sweep, dtype=bool)

    def breaches(self, path: ToolPath) -> BoolArray:
        return super().breaches(path) | self._wrong_contact(path)

    def describe(self, path: ToolPath, index: int) -> str:
        if self._wrong_contact(path)[index]:
            return f"{CONTACTS[path.contact[index]]} on the neck"
        return super().describe(path, index)


class ElbowStart(ForceCap):
    name = "the elbow starts firm, not deep"
    rule = "U7"

    def limit(self, path: ToolPath) -> FloatArray:
        warm = np.asarray(path.context.elbow_warm, dtype=bool)[path.step]
        elbow = path.contact == contact_code(Contact.ELBOW)
        firm_top = path.context.level_tops()[contact_code(Contact.ELBOW), PressureLevel.FIRM]
        return np.where(elbow & ~warm, firm_top, np.inf)


class ScreeningCap(Cap):
    name = "screening limits"
    rule = "X5"

    def _parts(self, path: ToolPath) -> dict[str, BoolArray]:
        limits = path.context.restrictions
        grid = path.context.grid
        excluded = grid.mask(frozenset(limits.excluded_regions))[path.region] & path.touching
        too_firm = np.zeros(len(path), dtype=bool)
        if limits.max_pressure is not None:
            too_firm = path.working & (path.level > int(limits.max_pressure))
        techniques = [TECHNIQUES.index(t) for t in limits.removed_techniques]
        contacts = [CONTACTS.index(c) for c in limits.removed_contacts]
        return {
            "a region left out by screening": excluded,
            "a pressure above the screening cap": too_firm,
            "a technique left out by screening": path.working & _in(path.technique, techniques),
            "a contact left out by screening": path.working & _in(path.contact, contacts),
        }

    def breaches(self, path: ToolPath) -> BoolArray:
        found = np.zeros(len(path), dtype=bool)
        for part in self._parts(path).values():
            found |= part
        return found

    def describe(self, path: ToolPath, index: int) -> str:
        return next(what for what, part in self._parts(path).items() if part[index])


class PercussionUpperBack(Cap):
    name = "percussion on the upper back only"
    rule = "C2"

    def breaches(self, path: ToolPath) -> BoolArray:
        upper = path.context.grid.area_mask(Area.UPPER_BACK)[path.region]
        mapped = path.region >= 0
        struck = path.touching & (path.technique == technique_code(Technique.PERCUSSION))
        return np.asarray(struck & mapped & ~upper, dtype=bool)

    def describe(self, path: ToolPath, index: int) -> str:
        return "percussion outside the upper back"


class SpeedCap(Cap):
    name = "tool speed"

    def breaches(self, path: ToolPath) -> BoolArray:
        return path.speed > path.context.figures.motion.max_speed_m_s + TOLERANCE

    def describe(self, path: ToolPath, index: int) -> str:
        top = path.context.figures.motion.max_speed_m_s
        return f"speed {path.speed[index]:.3f} m/s over {top} m/s"


class StrokeSpeed(Cap):
    name = "sweep stroke speed"

    def breaches(self, path: ToolPath) -> BoolArray:
        top = path.context.figures.motion.stroke_speed_m_s[1]
        sweeping = path.touching & (path.technique == technique_code(Technique.SWEEP))
        return np.asarray(sweeping & (path.speed > top + TOLERANCE), dtype=bool)

    def describe(self, path: ToolPath, index: int) -> str:
        top = path.context.figures.motion.stroke_speed_m_s[1]
        return f"sweep at {path.speed[index]:.3f} m/s, over {top} m/s"


class ForceRate(Cap):
    """Rising force at most so many N/s; easing off may be faster. Percussion strikes are
    shaped inside a rate-limited envelope, so their own rises are not counted."""

    name = "force rate"

    def rates(self, path: ToolPath) -> FloatArray:
        rates = np.zeros(len(path))
        rates[1:] = np.diff(path.force) * path.rate_hz
        return rates

    def breaches(self, path: ToolPath) -> BoolArray:
        top = path.context.figures.motion.force_rate_n_s
        percussion = path.technique == technique_code(Technique.PERCUSSION)
        struck = percussion.copy()
        struck[1:] |= percussion[:-1]
        return np.asarray((self.rates(path) > top * (1 + 1e-9) + TOLERANCE) & ~struck, dtype=bool)

    def describe(self, path: ToolPath, index: int) -> str:
        top = path.context.figures.motion.force_rate_n_s
        return f"force rising at {self.rates(path)[index]:.1f} N/s, over {top} N/s"


FORCE_CAPS: tuple[ForceCap, ...] = (
    IsoCeiling(),
    FingerForce(),
    MusclePressure(),
    BoneCap(),
    KidneyCap(),
    NeckCap(),
    ElbowStart(),
)
CAPS: tuple[Cap, ...] = (
    *FORCE_CAPS,
    ScreeningCap(),
    PercussionUpperBack(),
    SpeedCap(),
    StrokeSpeed(),
    ForceRate(),
)


def force_limit(path: ToolPath, caps: Sequence[ForceCap] = FORCE_CAPS) -> FloatArray:
    """The lowest force limit of every force cap, per sample."""
    limit = np.full(len(path), np.inf)
    for cap in caps:
        limit = np.minimum(limit, cap.limit(path))
    return limit


def breaches(path: ToolPath, caps: Sequence[Cap] = CAPS) -> list[Breach]:
    """The first breach of each broken cap, earliest first."""
    found = []
    for cap in caps:
        bad = np.flatnonzero(cap.breaches(path))
        if len(bad):
            index = int(bad[0])
            step = int(path.step[index])
            found.append(
                Breach(
                    cap=cap.name,
                    rule=cap.rule,
                    region=path.context.grid.name(int(path.region[index])),
                    time=float(path.t[index]),
                    step=path.context.step_ids[step] if step >= 0 else "-",
                    message=cap.describe(path, index),
                )
            )
    return sorted(found, key=lambda breach: breach.time)


def first_breach(path: ToolPath, caps: Sequence[Cap] = CAPS) -> Breach | None:
    found = breaches(path, caps)
    return found[0] if found else None


def count_over(path: ToolPath, caps: Sequence[Cap] = CAPS) -> int:
    """How many samples break at least one cap."""
    bad = np.zeros(len(path), dtype=bool)
    for cap in caps:
        bad |= cap.breaches(path)
    return int(bad.sum())
