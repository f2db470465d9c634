"""The path in MuJoCo: a short plan with scripted events, reactions and force limits measured."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backrub.errors import PlanningError
from backrub.method.step import Step
from backrub.planner import PlanRequest, PlanStatus, make_plan
from backrub.robot import breaches, plan_path, robot_figures, sample_plan
from backrub.robot.live import apply_events
from backrub.robot.sim_report import report
from backrub.robot.simulation import SIM_RATE_HZ, simulate
from backrub.session.events import Event, EventKind
from tests.conftest import RunBackrub
from tests.test_robot_properties import requests, scripts


def step(**fields: Any) -> Step:
    values: dict[str, Any] = {
        "id": "circles",
        "phase": "upper-back",
        "regions": ("paraspinal-upper-right",),
        "side": "right",
        "technique": "circles",
        "contact": "heel-of-hand",
        "pressure": 3,
        "seconds": 10.0,
        "check_in": True,
    }
    values.update(fields)
    return Step.model_validate(values)


@cache
def simulated() -> dict[str, Any]:
    """Circles beside the spine, compressions over the kidney area, a light sweep across the
    spine; the receiver says less, more, ouch, then stop."""
    steps = (
        step(),
        step(
            id="compressions",
            phase="lower-back",
            regions=("paraspinal-lower-right",),
            technique="palm-compression",
            seconds=12.0,
        ),
        step(
            id="sweep",
            technique="sweep",
            contact="palms",
            pressure=1,
            regions=("spine",),
            side="midline",
            path=((-0.3, 0.4), (0.3, 0.4)),
            seconds=8.0,
        ),
    )
    plan = make_plan(PlanRequest(minutes=5)).model_copy(update={"steps": steps})
    path = sample_plan(plan, rate_hz=SIM_RATE_HZ)
    assert breaches(path) == []
    script = [
        Event(at=4, kind=EventKind.LESS),
        Event(at=6, kind=EventKind.MORE),
        Event(at=8, kind=EventKind.PAIN),
        Event(at=29, kind=EventKind.STOP),
    ]
    return report(simulate(apply_events(path, script)))


def test_no_contact_on_bone_or_kidneys_above_its_cap() -> None:
    result = simulated()
    assert result["over_cap_on_bone_or_kidneys"] == []
    caps = robot_figures().caps
    # The sweep did cross the spine, lightly; the compressions did cross the kidney area.
    assert 0 < result["regions"]["spine"]["max_force_n"] <= caps.bone_force_n
    assert 0 < result["regions"]["kidney-right"]["max_force_n"] <= 15.0


def test_the_tool_answers_each_event_in_time() -> None:
    live = robot_figures().live
    reactions = {reaction["kind"]: reaction["seconds"] for reaction in simulated()["reactions"]}
    assert reactions["pain"] <= live.pain_within_s
    assert reactions["stop"] <= live.stop_within_s
    assert reactions["stop-lift"] <= live.stop_within_s + live.lift_s
    assert reactions["less"] <= 1.0 and reactions["more"] <= 1.0


def test_the_force_follows_the_path_and_the_plan_is_covered() -> None:
    result = simulated()
    assert result["tracking"]["rms_n"] < 2.0
    by_step = {entry["step"]: entry for entry in result["steps"]}
    assert by_step["sweep"]["rms_n"] < 0.5
    for region in ("paraspinal-upper-right", "kidney-right"):
        entry = result["regions"][region]
        assert entry["seconds"] == pytest.approx(entry["planned_seconds"], rel=0.4)


def test_robot_simulate_command_reports_json(run_backrub: RunBackrub, tmp_path: Path) -> None:
    plan = run_backrub("plan", "--minutes", "5", "--json")
    (tmp_path / "plan.json").write_text(plan.stdout)
    (tmp_path / "events.jsonl").write_text('{"at": 3, "kind": "pain"}\n{"at": 5, "kind": "stop"}\n')
    result = run_backrub(
        "robot",
        "simulate",
        "plan.json",
        "--events",
        "events.jsonl",
        "--seconds",
        "6",
        "--json",
        "--svg",
        "sim.svg",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema"] == "backrub.robot.simulation"
    assert data["over_cap_on_bone_or_kidneys"] == []
    assert [r["kind"] for r in data["reactions"]] == ["pain", "stop", "stop-lift"]
    assert 'class="tool-path"' in (tmp_path / "sim.svg").read_text()
    bad = run_backrub("robot", "simulate", "plan.json", "--events", "missing.jsonl")
    assert bad.returncode == 2 and "missing.jsonl: file not found" in bad.stderr


@settings(
    max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(requests, st.floats(0.0, 1.0), scripts)
def test_no_simulated_contact_over_a_cap_for_any_plan_and_script(
    request: PlanRequest, where: float, script: list[tuple[float, EventKind]]
) -> None:
    """Eight seconds from somewhere in a random plan, with random feedback, run in MuJoCo."""
    try:
        plan = make_plan(request)
    except PlanningError:
        return
    if plan.status is PlanStatus.REFUSED:
        return
    path = plan_path(plan, rate_hz=SIM_RATE_HZ)
    # Start where the tool is lifted between lines of work, as a real run starts off the body.
    lifted = np.flatnonzero(~path.working[: max(len(path) - 8 * round(SIM_RATE_HZ), 1)])
    start = int(lifted[int(where * (len(lifted) - 1))]) if len(lifted) else 0
    window = path.window(start, start + 8 * round(SIM_RATE_HZ))
    window = replace(window, t=window.t - window.t[0])
    events = [Event(at=share * window.duration, kind=kind) for share, kind in script]
    result = report(simulate(apply_events(window, events)))
    assert result["over_cap_on_bone_or_kidneys"] == []


def test_the_simulated_tool_changes_with_the_contact() -> None:
    """Palms first, then fingertips: the sphere must take each tool's radius. (With the first
    tool's 2 cm kept, the fingertip pressed 1.2 cm too deep and the force ran away.)"""
    steps = (
        step(id="palms", contact="palms", technique="palm-compression", pressure=2, seconds=6.0),
        step(
            id="fingers",
            phase="neck",
            regions=("skull-base-left",),
            side="left",
            contact="fingertips",
            pressure=2,
            seconds=6.0,
        ),
    )
    plan = make_plan(PlanRequest(minutes=5)).model_copy(update={"steps": steps})
    result = report(simulate(sample_plan(plan, rate_hz=SIM_RATE_HZ)))
    fingers = next(entry for entry in result["steps"] if entry["step"] == "fingers")
    assert fingers["rms_n"] < 1.0 and fingers["worst_n"] < 5.0


@cache
def ridge_and_percussion() -> dict[str, Any]:
    """Knuckle circles just above each pelvic ridge (a stiff attachment on a slope beside bone,
    the hardest steady stroke to track), then light percussion with loose fists."""
    ridge = {
        "phase": "lower-back",
        "technique": "circles",
        "contact": "knuckles",
        "direction": "outward",
        "seconds": 10.0,
    }
    steps = (
        step(id="ridge-left", regions=("iliac-crest-attachments-left",), side="left", **ridge),
        step(id="ridge-right", regions=("iliac-crest-attachments-right",), side="right", **ridge),
        step(
            id="percussion",
            phase="closing",
            regions=("shoulder-blade-left", "middle-trapezius-left"),
            side="left",
            technique="percussion",
            contact="loose-fists",
            pressure=2,
            seconds=14.0,
            direction="down",
        ),
    )
    plan = make_plan(PlanRequest(minutes=5)).model_copy(update={"steps": steps})
    path = sample_plan(plan, rate_hz=SIM_RATE_HZ)
    assert breaches(path) == []
    return report(simulate(path))


def test_steady_strokes_track_the_force_within_the_goal() -> None:
    """Issue 13's goal: steady-stroke tracking RMS at most 0.3 N, the knuckle circles on the
    pelvic ridge included (1.2-1.4 N there before the model-based force feedback)."""
    result = ridge_and_percussion()
    assert result["tracking"]["steady_rms_n"] <= 0.3
    # ... while the tool still traces the path (1.2 cm circles), not by giving up on it.
    assert result["tracking"]["path_rms_mm"] <= 1.5
    for entry in result["steps"]:
        if entry["step"].startswith("ridge"):
            assert entry["rms_n"] <= 0.5, entry
    assert result["over_cap_on_bone_or_kidneys"] == []


def test_percussion_is_measured_as_strikes_under_their_cap() -> None:
    """Percussion is measured as an impact task: every strike under its cap and at the planned
    rate (4-10 strikes a second), not as steady tracking."""
    percussion = ridge_and_percussion()["percussion"]
    low, high = robot_figures().motion.percussion_hz
    assert percussion["over_cap_samples"] == 0
    assert percussion["peak_n"] <= percussion["cap_n"]
    assert percussion["peak_n"] == pytest.approx(percussion["planned_peak_n"], rel=0.2)
    assert low <= percussion["strikes_per_s"] <= high
    assert percussion["strikes_per_s"] == pytest.approx(
        percussion["planned_strikes_per_s"], rel=0.1
    )
