"""`backrub robot path`: the exported CSV and MCAP read back, refusals, bad input."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory

from tests.conftest import RunBackrub

RATE = 100


@pytest.fixture
def plan_file(run_backrub: RunBackrub, tmp_path: Path) -> Path:
    result = run_backrub("plan", "--minutes", "5", "--json")
    assert result.returncode == 0, result.stderr
    target = tmp_path / "plan.json"
    target.write_text(result.stdout)
    return target


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    lines = path.read_text().splitlines()
    comments = [line for line in lines if line.startswith("#")]
    rows = list(
        csv.DictReader(io.StringIO("\n".join(row for row in lines if not row.startswith("#"))))
    )
    return comments, rows


def test_path_exports_csv_mcap_and_svg_that_read_back(
    run_backrub: RunBackrub, plan_file: Path, tmp_path: Path
) -> None:
    out = {kind: tmp_path / f"path.{kind}" for kind in ("csv", "mcap", "svg")}
    result = run_backrub(
        "robot",
        "path",
        str(plan_file),
        "--rate",
        str(RATE),
        "--json",
        "--csv",
        str(out["csv"]),
        "--mcap",
        str(out["mcap"]),
        "--mcap-rate",
        "20",
        "--svg",
        str(out["svg"]),
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "ok" and summary["samples_over_a_cap"] == 0
    assert summary["samples"] == 5 * 60 * RATE - 1 or summary["samples"] == 5 * 60 * RATE

    comments, rows = read_csv(out["csv"])
    assert any("fit: shoulder_width_cm=40 skull_to_s2_cm=58" in line for line in comments)
    assert any("frame: back frame in metres" in line for line in comments)
    assert len(rows) == summary["samples"]
    times = np.array([float(row["t_s"]) for row in rows])
    assert np.allclose(np.diff(times), 1 / RATE)
    forces = np.array([float(row["force_n"]) for row in rows])
    assert forces.max() == pytest.approx(summary["max_force_n"], abs=0.01)
    assert {row["technique"] for row in rows} >= {"sweep", "kneading", "circles"}
    assert {row["touching"] for row in rows} == {"0", "1"}

    with out["mcap"].open("rb") as stream:
        reader = make_reader(stream, decoder_factories=[DecoderFactory()])
        decoded = [
            (channel.topic, schema.name, message, msg)
            for schema, channel, msg, message in reader.iter_decoded_messages()
        ]
    topics = {topic: name for topic, name, _, _ in decoded}
    assert topics == {
        "/backrub/tool/pose": "geometry_msgs/msg/PoseStamped",
        "/backrub/tool/wrench": "geometry_msgs/msg/WrenchStamped",
        "/backrub/trajectory": "trajectory_msgs/msg/MultiDOFJointTrajectory",
    }
    poses = [(m, raw) for topic, _, m, raw in decoded if topic == "/backrub/tool/pose"]
    wrenches = [m for topic, _, m, _ in decoded if topic == "/backrub/tool/wrench"]
    assert len(poses) == len(wrenches) == len(range(0, len(rows), RATE // 20))
    # The 11th pose is the CSV row at the same time: same place, same force.
    pose, raw = poses[10]
    row = rows[10 * RATE // 20]
    assert raw.log_time == round(float(row["t_s"]) * 1e9)
    assert pose.header.frame_id == "back"
    assert pose.pose.position.x == pytest.approx(float(row["x_m"]), abs=1e-6)
    assert pose.pose.orientation.w == pytest.approx(float(row["qw"]), abs=1e-6)
    force = wrenches[10].wrench.force
    assert np.hypot(np.hypot(force.x, force.y), force.z) == pytest.approx(
        float(row["force_n"]), abs=1e-3
    )
    trajectories = [m for topic, _, m, _ in decoded if topic == "/backrub/trajectory"]
    plan_steps = json.loads(plan_file.read_text())["steps"]
    assert len(trajectories) == len(plan_steps)
    assert (
        trajectories[0].joint_names == ["tool"] and len(trajectories[0].points[0].transforms) == 1
    )

    drawing = out["svg"].read_text()
    assert (
        drawing.startswith("<svg") and 'class="tool-path"' in drawing and 'class="force"' in drawing
    )


def test_an_unsafe_plan_is_refused_naming_rule_region_and_time(
    run_backrub: RunBackrub, plan_file: Path, tmp_path: Path
) -> None:
    data = json.loads(plan_file.read_text())
    data["steps"][3]["regions"] = ["spine"]
    data["steps"][3]["pressure"] = 3
    data["steps"][3]["contact"] = "palms"
    plan_file.write_text(json.dumps(data))
    target = tmp_path / "never.csv"
    result = run_backrub("robot", "path", str(plan_file), "--csv", str(target))
    assert result.returncode == 1
    start = data["steps"][3]["start_seconds"]
    assert f"rule X1 (no pressure on bone) at {start:.3f} s on spine" in result.stdout
    assert not target.exists()
    result = run_backrub("robot", "path", str(plan_file), "--json")
    assert result.returncode == 1
    breach = json.loads(result.stdout)["breach"]
    assert (breach["rule"], breach["region"], breach["time_s"]) == ("X1", "spine", start)


def test_bad_input_gets_one_line_and_exit_2(run_backrub: RunBackrub, plan_file: Path) -> None:
    result = run_backrub("robot", "path", "missing.json")
    assert result.returncode == 2 and "missing.json: file not found" in result.stderr
    result = run_backrub("robot", "path", str(plan_file), "--rate", "5")
    assert result.returncode == 2 and "--rate" in result.stderr
    assert "Traceback" not in result.stderr


def test_events_change_the_path_and_an_empty_plan_is_bad_input(
    run_backrub: RunBackrub, plan_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "events.jsonl").write_text(
        '{"at": 30, "kind": "pain"}\n{"at": 60, "kind": "stop"}\n'
    )
    result = run_backrub(
        "robot", "path", str(plan_file), "--rate", "100", "--events", "events.jsonl", "--json"
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["events"] == ["30 pain", "60 stop"]
    assert summary["duration_s"] < 62  # stopped at 60 s: eased off, lifted, ended
    data = json.loads(plan_file.read_text())
    data["steps"] = []
    plan_file.write_text(json.dumps(data))
    result = run_backrub("robot", "path", str(plan_file))
    assert result.returncode == 2 and "the plan has no steps" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_cli_loads_no_robot_package_until_a_robot_command_runs() -> None:
    code = (
        "import sys, backrub.cli.main; "
        "print(sorted(m for m in ('backrub.robot', 'mcap', 'mujoco') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
