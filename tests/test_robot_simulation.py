"""The path in MuJoCo: a short plan with scripted events, reactions and force limits measured."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from backrub.method.step import Step
from backrub.planner import PlanRequest, make_plan
from backrub.robot import breaches, robot_figures, sample_plan
from backrub.robot.live import apply_events
from backrub.robot.sim_report import report
from backrub.robot.simulation import SIM_RATE_HZ, simulate
from backrub.session.events import Event, EventKind
from tests.conftest import RunBackrub


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
        "robot", "simulate", "plan.json", "--events", "events.jsonl", "--seconds", "6", "--json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema"] == "backrub.robot.simulation"
    assert data["over_cap_on_bone_or_kidneys"] == []
    assert [r["kind"] for r in data["reactions"]] == ["pain", "stop", "stop-lift"]
    bad = run_backrub("robot", "simulate", "plan.json", "--events", "missing.jsonl")
    assert bad.returncode == 2 and "missing.jsonl: file not found" in bad.stderr
