"""The `backrub` command as a user runs it: real process, real files, exit codes and messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from backrub.atlas import default_atlas
from tests.conftest import DATA, RunBackrub

SVG = "{http://www.w3.org/2000/svg}"


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    stderr = result.stderr
    assert result.returncode == 2, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0]


def region_ids_in(svg_path: Path) -> set[str]:
    root = ET.parse(svg_path).getroot()
    return {el.get("data-region", "") for el in root.iter() if el.get("data-region")}


def test_plan_json_for_a_computer_worker_covers_every_phase(run_backrub: RunBackrub) -> None:
    result = run_backrub("plan", "--minutes", "20", "--activity", "computer-work", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["schema"] == "backrub.plan" and plan["status"] == "ready"
    assert [p["phase"] for p in plan["phases"]] == [
        "opening",
        "neck",
        "upper-back",
        "lower-back",
        "closing",
    ]
    assert abs(plan["total_seconds"] - 1200) <= 24
    assert plan["focus_areas"] == ["neck"]


def test_plan_table_shows_the_steps_in_order(run_backrub: RunBackrub) -> None:
    result = run_backrub("plan", "-m", "15", "-a", "running")
    assert result.returncode == 0, result.stderr
    assert "15 minutes" in result.stdout
    assert result.stdout.index("palm-compression") < result.stdout.index("sweep")
    assert "More time on the lower back: running." in result.stdout


def test_plan_svg_draws_numbered_steps_on_the_map(run_backrub: RunBackrub, tmp_path: Path) -> None:
    target = tmp_path / "out" / "plan.svg"
    result = run_backrub("plan", "-m", "20", "-t", "upper-trapezius-left", "--svg", str(target))
    assert result.returncode == 0, result.stderr
    root = ET.parse(target).getroot()
    markers = [el for el in root.iter() if "step-marker" in (el.get("class") or "")]
    plan = json.loads(
        run_backrub("plan", "-m", "20", "-t", "upper-trapezius-left", "--json").stdout
    )
    assert len(markers) == len(plan["steps"])
    assert region_ids_in(target) == set(default_atlas().region_ids)


def test_profile_file_and_options_that_override_it(run_backrub: RunBackrub, tmp_path: Path) -> None:
    profile = tmp_path / "alex.toml"
    profile.write_text(
        'minutes = 25\nactivities = ["knitting"]\npressure = "firm"\n'
        '[screening]\nyes = ["asthma"]\n'
        'local = [{ region = "shoulder-blade-left", kind = "bruise" }]\n',
        encoding="utf-8",
    )
    plan = json.loads(run_backrub("plan", "--profile", str(profile), "--json").stdout)
    assert plan["budget_seconds"] == 1500 and plan["focus_areas"] == ["neck"]
    assert plan["request"]["pressure"] == 4
    assert not any(s["technique"] == "percussion" for s in plan["steps"])
    assert not any("shoulder-blade-left" in s["regions"] for s in plan["steps"])
    override = json.loads(
        run_backrub("plan", "--profile", str(profile), "-m", "10", "--json").stdout
    )
    assert override["budget_seconds"] == 600


def test_json_profile(run_backrub: RunBackrub, tmp_path: Path) -> None:
    profile = tmp_path / "sam.json"
    profile.write_text(
        json.dumps({"minutes": 12, "trouble_spots": ["teres-right"]}), encoding="utf-8"
    )
    plan = json.loads(run_backrub("plan", "--profile", str(profile), "--json").stdout)
    assert plan["budget_seconds"] == 720
    assert any("teres-right" in s["regions"] for s in plan["steps"])


def test_screening_refusal_exits_1_with_the_reason(run_backrub: RunBackrub) -> None:
    result = run_backrub("plan", "--yes", "fever-or-infection")
    assert result.returncode == 1
    assert "Not today" in result.stdout
    as_json = run_backrub("plan", "--yes", "blood-clot", "--json")
    assert as_json.returncode == 1
    data = json.loads(as_json.stdout)
    assert data["status"] == "refused" and data["steps"] == []
    assert data["screening"]["emergency"] is True


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["plan", "--activity", "juggling"], ["juggling", "computer-work"]),
        (["plan", "--trouble", "upper-trap-left"], ["upper-trap-left", "upper-trapezius-left"]),
        (["plan", "--trouble", "spine"], ["spine", "bone"]),
        (["plan", "--minutes", "95"], ["--minutes", "5 to 90"]),
        (["plan", "--minutes", "4"], ["--minutes"]),
        (["plan", "--pressure", "hard"], ["--pressure", "hard", "moderate"]),
        (["plan", "--order", "sideways"], ["--order", "problem-first"]),
        (["plan", "--local", "neck-left"], ["neck-left"]),
        (["plan", "--local", "neck-left:rash"], ["rash", "bruise"]),
        (["plan", "--yes", "unicorns"], ["unicorns"]),
        (["plan", "--routine", "no-such-routine.toml"], ["no-such-routine.toml", "not found"]),
        (["plan", "--bogus"], ["--bogus"]),
        (["check", "missing.toml"], ["missing.toml", "not found"]),
    ],
)
def test_bad_input_is_one_line_exit_2_no_traceback(
    run_backrub: RunBackrub, args: list[str], fragments: list[str]
) -> None:
    assert_one_line_error(run_backrub(*args), *fragments)


def test_malformed_profile_names_the_file(run_backrub: RunBackrub, tmp_path: Path) -> None:
    profile = tmp_path / "broken.toml"
    profile.write_text("minutes = = 3\n", encoding="utf-8")
    assert_one_line_error(
        run_backrub("plan", "--profile", str(profile)), "broken.toml", "malformed TOML"
    )
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('minutes = "soon"\n', encoding="utf-8")
    assert_one_line_error(run_backrub("plan", "--profile", str(wrong)), "wrong.toml", "minutes")


def test_a_bad_svg_target_is_reported_and_nothing_is_left_behind(
    run_backrub: RunBackrub, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    result = run_backrub("plan", "--svg", str(blocker / "plan.svg"))
    assert_one_line_error(result, "plan.svg", "cannot write")
    assert list(tmp_path.iterdir()) == [blocker]


def test_check_accepts_the_built_in_routines(run_backrub: RunBackrub) -> None:
    for name in ("classic", "neck-and-shoulders"):
        result = run_backrub("check", name)
        assert result.returncode == 0, result.stdout
        assert "ok" in result.stdout and "valid" in result.stdout


def test_check_a_routine_file_by_path(run_backrub: RunBackrub) -> None:
    from backrub.method.routine import routine_path

    result = run_backrub("check", str(routine_path("classic")), "--json")
    assert result.returncode == 0
    verdict = json.loads(result.stdout)
    assert verdict["ok"] is True and verdict["violations"] == []
    assert verdict["schema"] == "backrub.check"


def test_check_a_malformed_routine_exits_2_naming_file_and_key(run_backrub: RunBackrub) -> None:
    result = run_backrub("check", str(DATA / "routines" / "missing-contact.toml"))
    assert_one_line_error(result, "missing-contact.toml", "contact", "heel-of-hand")
    result = run_backrub("check", str(DATA / "routines" / "malformed.toml"))
    assert_one_line_error(result, "malformed.toml", "malformed TOML")


def test_atlas_svg_has_every_region_labelled(run_backrub: RunBackrub, tmp_path: Path) -> None:
    target = tmp_path / "map.svg"
    result = run_backrub("atlas", "--svg", str(target))
    assert result.returncode == 0, result.stderr
    atlas = default_atlas()
    assert region_ids_in(target) == set(atlas.region_ids)
    root = ET.parse(target).getroot()
    text = " ".join("".join(el.itertext()) for el in root.iter(f"{SVG}text")).lower()
    for word in ("spine", "upper trapezius", "kidney", "latissimus", "skull"):
        assert word in text
    classes = {
        el.get("data-region"): el.get("class", "") for el in root.iter() if el.get("data-region")
    }
    assert "tissue-bone" in classes["spine"]
    assert "tissue-caution" in classes["kidney-left"]


def test_atlas_json_gives_centimetres_for_the_receiver(run_backrub: RunBackrub) -> None:
    average = json.loads(run_backrub("atlas", "--json").stdout)
    broad = json.loads(run_backrub("atlas", "--json", "--shoulder-width", "50").stdout)
    by_id = {r["id"]: r for r in average["regions"]}
    broad_by_id = {r["id"]: r for r in broad["regions"]}
    assert by_id["teres-right"]["centre_cm"][0] < broad_by_id["teres-right"]["centre_cm"][0]
    assert {lm["id"] for lm in average["landmarks"]} >= {"c7", "s2", "psis-left"}


@pytest.mark.parametrize(
    ("command", "key"),
    [("questions", "questions"), ("activities", "activities"), ("routines", "routines")],
)
def test_look_up_commands_have_json(run_backrub: RunBackrub, command: str, key: str) -> None:
    result = run_backrub(command, "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)[key]
    assert run_backrub(command).returncode == 0


def test_version_and_help(run_backrub: RunBackrub) -> None:
    assert run_backrub("--version").stdout.startswith("backrub ")
    help_text = run_backrub("--help").stdout
    for command in ("plan", "check", "atlas"):
        assert command in help_text


def test_a_plan_with_several_yes_answers_prints_the_same_bytes_every_run(tmp_path: Path) -> None:
    """The answers are a set: printed in its order, the JSON differed from run to run (string
    hashing is salted per process). Three runs with different salts must agree."""
    args = ["plan", "-m", "20", "--json", "-y", "bruises-easily", "-y", "frail-or-older"]
    args += ["-y", "neck-injury-healing", "-y", "touch-sensitive"]
    outputs = set()
    for seed in ("1", "2", "3", "4"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-m", "backrub", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1
