"""What a simulated run shows: force tracking, force and pressure per region, contact on bone or
kidneys over a cap, coverage against the plan, and how fast the tool answered each event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from backrub.atlas import Tissue
from backrub.method.vocabulary import Technique
from backrub.robot.caps import force_limit
from backrub.robot.simulation import SimulatedRun
from backrub.robot.toolpath import technique_code

REPORT_SCHEMA = "backrub.robot.simulation"
REPORT_VERSION = 1
# The tool counts as on the skin above this measured force.
CONTACT_N = 0.5
# Samples count as "steady" once the asked force has not changed for this long.
STEADY_S = 0.3


@dataclass(frozen=True)
class Reaction:
    at: float
    kind: str
    seconds: float | None  # None: the force never got there before the path ended
    goal: str

    def as_json(self) -> dict[str, Any]:
        seconds = None if self.seconds is None else round(self.seconds, 4)
        return {"at_s": self.at, "kind": self.kind, "seconds": seconds, "goal": self.goal}


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(values**2))) if len(values) else 0.0


def _steady(target: np.ndarray, rate: float, seconds: float = STEADY_S) -> np.ndarray:
    """True where the asked force has not changed (by over 1 N/s) for `seconds`."""
    changed = np.ones(len(target), dtype=bool)
    changed[1:] = np.abs(np.diff(target)) * rate > 1.0
    last_change = np.maximum.accumulate(np.where(changed, np.arange(len(target)), 0))
    return np.asarray(np.arange(len(target)) - last_change >= seconds * rate, dtype=bool)


def path_error(run: SimulatedRun) -> np.ndarray:
    """Per sample, metres between where the tool touched and where the path put the touch."""
    path = run.path
    scale = np.array([path.context.fit.half_width_cm, path.context.fit.skull_to_s2_cm]) / 100
    radius = path.context.radii_m[path.contact][:, None]
    planned = (path.position - radius * path.normal)[:, :2]
    return np.asarray(np.linalg.norm(run.tool_xy * scale - planned, axis=1))


def _strikes(force: np.ndarray, on: np.ndarray, level: float) -> int:
    """Rises of the force through `level` within the samples `on` (one per strike)."""
    above = (force > level) & on
    return int(np.count_nonzero(above[1:] & ~above[:-1] & on[:-1]))


def percussion_report(run: SimulatedRun) -> dict[str, float | int]:
    """Percussion is an impact task, measured as one: the strikes' peak force against the
    lowest force cap where they land, the samples over it, and strikes per second (measured and
    planned), not as steady tracking of a force that comes and goes six times a second."""
    path = run.path
    # The strikes' lines of work (the tool leaves the skin between strikes: not `touching`).
    on = path.working & (path.technique == technique_code(Technique.PERCUSSION))
    if not on.any():
        return {"seconds": 0.0}
    planned_peak = float(path.force[on].max())
    cap = force_limit(path)
    seconds = float(on.sum()) / path.rate_hz
    return {
        "seconds": round(seconds, 2),
        "peak_n": round(float(run.force[on].max()), 2),
        "planned_peak_n": round(planned_peak, 2),
        "cap_n": round(float(cap[on].min()), 2),
        "over_cap_samples": int(np.count_nonzero(on & (run.force > cap))),
        "strikes_per_s": round(_strikes(run.force, on, planned_peak / 2) / seconds, 2),
        "planned_strikes_per_s": round(_strikes(path.force, on, planned_peak / 2) / seconds, 2),
    }


def reactions(run: SimulatedRun) -> list[Reaction]:
    path, force = run.path, run.force
    found = []
    for text in path.events:
        lift_seconds: float | None = None
        at_text, kind = text.split(" ", 1)
        at = float(at_text)
        start = path.index_at(at)
        if start >= len(path):
            continue
        later = np.arange(start, len(path))
        before = force[max(start - 1, 0)]
        if kind == "pain":
            goal = f"measured force at or under half of {before:.1f} N"
            hit = later[force[later] <= before / 2 + 0.05]
        elif kind == "stop":
            goal = f"measured force under {CONTACT_N} N"
            hit = later[force[later] < CONTACT_N]
            lifted = later[run.lift[later] >= path.context.figures.live.stop_lift_m - 0.001]
            lift_seconds = float(path.t[lifted[0]] - at) if len(lifted) else None
        else:
            # The force the path settles at after the change: once it has held for 0.1 s.
            settled = later[_steady(path.force, path.rate_hz, 0.1)[later] & (path.t[later] > at)]
            wanted = float(path.force[settled[0]]) if len(settled) else float(path.force[-1])
            goal = f"measured force within 10% of {wanted:.1f} N"
            hit = later[np.abs(force[later] - wanted) <= 0.1 * wanted + 0.05]
        seconds = float(path.t[hit[0]] - at) if len(hit) else None
        found.append(Reaction(at=at, kind=kind, seconds=seconds, goal=goal))
        if kind == "stop":
            found.append(
                Reaction(at=at, kind="stop-lift", seconds=lift_seconds, goal="lifted 3 cm")
            )
    return found


def report(run: SimulatedRun) -> dict[str, Any]:
    path = run.path
    grid = path.context.grid
    caps = path.context.figures.caps
    rate = path.rate_hz
    error = run.force - path.force
    asked = path.touching
    percussion = path.technique == technique_code(Technique.PERCUSSION)
    steady = asked & ~percussion & _steady(path.force, rate)
    changing = asked & ~percussion & ~steady
    steps = []
    for number in np.unique(path.step).tolist():
        on = asked & (path.step == number)
        if on.any():
            steps.append(
                {
                    "step": path.context.step_ids[number],
                    "technique": path.technique[on][0].item(),
                    "rms_n": round(_rms(error[on]), 3),
                    "worst_n": round(float(np.abs(error[on]).max()), 3),
                    "worst_at_s": round(float(path.t[on][np.argmax(np.abs(error[on]))]), 3),
                }
            )
    from backrub.robot.toolpath import TECHNIQUES

    for entry in steps:
        entry["technique"] = TECHNIQUES[entry["technique"]].value
    area = path.context.areas_m2[path.contact]
    pressure = run.force / area / 1000
    measured_on = run.force > CONTACT_N
    regions: dict[str, dict[str, float]] = {}
    names = [*grid.ids, "none"]
    for index in sorted(set(run.region[measured_on].tolist()) | set(path.region[asked].tolist())):
        on = measured_on & (run.region == index)
        planned = asked & (path.region == index)
        regions[names[index]] = {
            "max_force_n": round(float(run.force[on].max()), 2) if on.any() else 0.0,
            "max_pressure_kpa": round(float(pressure[on].max()), 1) if on.any() else 0.0,
            "seconds": round(float(on.sum()) / rate, 2),
            "planned_seconds": round(float(planned.sum()) / rate, 2),
        }
    bone = grid.tissue_mask(Tissue.BONE)[run.region] & measured_on
    kidney = grid.tissue_mask(Tissue.CAUTION)[run.region] & measured_on
    kidney_top = path.context.level_tops()[path.contact, caps.kidney_max_level]
    over = {
        "bone": bone & ((run.force > caps.bone_force_n) | (pressure > caps.bone_pressure_kpa)),
        "kidney": kidney & ((run.force > kidney_top) | percussion),
    }
    hazards = []
    for kind, mask in over.items():
        for index in np.flatnonzero(mask)[:20].tolist():
            hazards.append(
                {
                    "kind": kind,
                    "region": names[int(run.region[index])],
                    "time_s": round(float(path.t[index]), 3),
                    "force_n": round(float(run.force[index]), 2),
                    "pressure_kpa": round(float(pressure[index]), 1),
                }
            )
    return {
        "schema": REPORT_SCHEMA,
        "version": REPORT_VERSION,
        "duration_s": round(path.duration, 3),
        "rate_hz": rate,
        "wall_seconds": round(run.wall_seconds, 3),
        "cpu_seconds": round(run.cpu_seconds, 3),
        "realtime_factor": round(run.realtime_factor, 2),
        "realtime_factor_cpu": round(path.duration / max(run.cpu_seconds, 1e-9), 2),
        "tracking": {
            "rms_n": round(_rms(error[asked]), 3),
            "worst_n": round(float(np.abs(error[asked]).max()), 3) if asked.any() else 0.0,
            "steady_rms_n": round(_rms(error[steady]), 3),
            "changing_rms_n": round(_rms(error[changing]), 3),
            "percussion_rms_n": round(_rms(error[asked & percussion]), 3),
            "path_rms_mm": round(1000 * _rms(path_error(run)[asked]), 2),
        },
        "percussion": percussion_report(run),
        "steps": steps,
        "regions": regions,
        "over_cap_on_bone_or_kidneys": hazards,
        "reactions": [reaction.as_json() for reaction in reactions(run)],
    }
