"""`backrub simulate`, `history` and `show` through the real entry point."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from backrub.atlas import default_atlas
from backrub.planner import PlanRequest, make_plan
from backrub.session import Event, EventKind, SessionEngine
from backrub.session.summary import summarize
from backrub.session.verdicts import sides_in_words
from backrub.store import Store
from tests.conftest import RunBackrub
from tests.webserver import run_command


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    plan = make_plan(PlanRequest(minutes=20, trouble_spots=("teres-left",)))
    path.write_text(json.dumps(plan.to_json()), encoding="utf-8")
    return path


def write_events(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_simulate_prints_the_timeline_and_every_reaction_with_its_method_id(
    run_backrub: RunBackrub, tmp_path: Path, plan_file: Path
) -> None:
    events = write_events(
        tmp_path,
        '{"at": 5, "kind": "more"}',
        '{"at": 400, "kind": "knot", "region": "middle-trapezius-right"}',
        '{"at": 430, "kind": "still-tight"}',
        '{"at": 460, "kind": "released"}',
        '{"at": 1150, "kind": "cough"}',
    )
    result = run_backrub("simulate", "--plan", str(plan_file), "--events", str(events), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema"] == "backrub.simulation" and data["version"] == 1
    assert data["status"] == "finished"
    for row in data["timeline"]:
        assert {"start", "end", "regions", "side", "technique", "contact", "pressure"} <= set(row)
    assert data["timeline"][-1]["technique"] == "sweep"
    ids = {event["event"]: event["method_ids"] for event in data["reactions"]}
    assert "U6" in ids["still-tight"] and "U9" in ids["released"]
    assert data["summary"]["knots"][0]["outcome"] == "released"
    table = run_backrub("simulate", "--plan", str(plan_file), "--events", str(events))
    assert table.returncode == 0 and "Reactions" in table.stdout and "U9" in table.stdout


def test_simulate_gives_the_same_timeline_as_the_engine(
    run_backrub: RunBackrub, tmp_path: Path, plan_file: Path
) -> None:
    events = write_events(
        tmp_path, '{"at": 100, "kind": "ticklish"}', '{"at": 101, "kind": "ticklish"}'
    )
    data = json.loads(
        run_backrub("simulate", "--plan", str(plan_file), "--events", str(events), "--json").stdout
    )
    from backrub.planner import Plan

    engine = SessionEngine.replay(
        Plan.from_json(json.loads(plan_file.read_text())),
        [Event(at=100, kind=EventKind.TICKLISH), Event(at=101, kind=EventKind.TICKLISH)],
    )
    engine.advance(engine.state.clock + engine.budget * 3)
    # The same stretches of work, one by one: where, how, how firmly and when.
    assert [
        (row["step"], row["start"], row["end"], row["regions"], row["technique"], row["pressure"])
        for row in data["timeline"]
    ] == [
        (
            segment.step.id,
            round(segment.start, 1),
            round(segment.end, 1),
            list(segment.step.regions),
            segment.step.technique.value,
            int(segment.step.pressure),
        )
        for segment in engine.state.timeline
    ]
    assert [(r["at"], r["event"], r["what"]) for r in data["reactions"]] == [
        (r.at, r.event, r.what) for r in engine.state.reactions
    ]
    assert [c["key"] for c in data["cues"]] == [c.key for c in engine.state.cues]
    assert data["worked_seconds"] == round(engine.state.worked, 1)


@pytest.mark.parametrize(
    ("line", "fragments"),
    [
        ('{"at": 5, "kind": "wiggle"}', ["line 2", "kind", "unknown value 'wiggle'", "more"]),
        ('{"at": 5, "kind": "more"', ["line 2", "bad JSON"]),
        ('{"at": -1, "kind": "more"}', ["line 2", "at"]),
        ('{"at": 5, "kind": "felt"}', ["line 2", "0 to 10"]),
        ('{"at": 5, "kind": "knot", "region": "elbow-pit"}', ["event 2", "elbow-pit"]),
        ('{"at": 1, "kind": "less"}', ["event 2", "before the last one"]),
    ],
)
def test_bad_events_name_the_line_and_exit_2(
    run_backrub: RunBackrub, tmp_path: Path, plan_file: Path, line: str, fragments: list[str]
) -> None:
    events = write_events(tmp_path, '{"at": 3, "kind": "more"}', line)
    result = run_backrub("simulate", "--plan", str(plan_file), "--events", str(events))
    assert result.returncode == 2, result.stdout
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in message


def test_simulate_refuses_a_file_that_is_not_a_plan(
    run_backrub: RunBackrub, tmp_path: Path
) -> None:
    not_plan = tmp_path / "x.json"
    not_plan.write_text('{"hello": 1}', encoding="utf-8")
    events = write_events(tmp_path, '{"at": 1, "kind": "more"}')
    result = run_backrub("simulate", "--plan", str(not_plan), "--events", str(events))
    assert result.returncode == 2 and "not a backrub plan" in result.stderr


def test_events_after_the_end_are_listed_not_run(
    run_backrub: RunBackrub, tmp_path: Path, plan_file: Path
) -> None:
    events = write_events(tmp_path, '{"at": 10, "kind": "stop"}', '{"at": 20, "kind": "more"}')
    data = json.loads(
        run_backrub("simulate", "--plan", str(plan_file), "--events", str(events), "--json").stdout
    )
    assert data["status"] == "stopped"
    assert data["refused_events"][0]["kind"] == "more"


def stored_session(database: Path, events: list[Event], *, end: bool) -> str:
    plan = make_plan(PlanRequest(minutes=10))
    with Store.open(f"sqlite:///{database}") as store:
        session_id = store.start_session(plan.to_json())
        engine = SessionEngine(plan)
        for item in events:
            store.append_event(session_id, item)
            engine.apply(item)
        if end:
            engine.advance(10_000)
            store.end_session(session_id, "finished", summarize(engine))
    return session_id


def run_with_database(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BACKRUB_DATABASE_URL": f"sqlite:///{database}", "COLUMNS": "160"}
    return run_command(list(args), env=env, timeout=60)


def test_history_and_show(tmp_path: Path) -> None:
    database = tmp_path / "h.sqlite3"
    finished = stored_session(database, [Event(at=30, kind=EventKind.MORE)], end=True)
    running = stored_session(database, [Event(at=5, kind=EventKind.PAIN)], end=False)
    listing = json.loads(run_with_database(database, "history", "--json").stdout)
    assert [s["id"] for s in listing["sessions"]] == [running, finished]
    assert listing["sessions"][1]["status"] == "finished"
    table = run_with_database(database, "history")
    assert finished[:8] in table.stdout and running[:8] in table.stdout
    shown = json.loads(run_with_database(database, "show", finished[:6], "--json").stdout)
    assert shown["id"] == finished
    summary = shown["summary"]
    assert summary["per_side_seconds"]["left"] == pytest.approx(
        summary["per_side_seconds"]["right"], rel=0.1
    )
    assert "upper-trapezius-left" in summary["regions"]
    open_one = json.loads(run_with_database(database, "show", running, "--json").stdout)
    assert open_one["status"] == "running" and open_one["summary"]["worked_seconds"] == 5.0
    text = run_with_database(database, "show", finished)
    assert "Time per region" in text.stdout


def test_show_unknown_session_is_a_clear_error(tmp_path: Path) -> None:
    database = tmp_path / "h.sqlite3"
    stored_session(database, [], end=True)
    result = run_with_database(database, "show", "ffffffff")
    assert result.returncode == 2 and "ffffffff" in result.stderr


def test_history_on_a_database_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    database = tmp_path / "new.sqlite3"
    stored_session(database, [], end=True)
    import sqlite3

    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_future'")
    before = database.read_bytes()
    result = run_with_database(database, "history")
    assert result.returncode == 2 and "newer version" in result.stderr
    assert database.read_bytes() == before


def test_history_on_a_corrupt_file_is_refused_untouched(tmp_path: Path) -> None:
    database = tmp_path / "bad.sqlite3"
    database.write_bytes(b"not a database at all" * 100)
    result = run_with_database(database, "history")
    assert result.returncode == 2
    assert "damaged" in result.stderr or "not a backrub database" in result.stderr
    assert database.read_bytes() == b"not a database at all" * 100


@pytest.mark.parametrize(
    ("lines", "paused"),
    [
        ((), 0.0),
        (('{"at": 300, "kind": "pause"}', '{"at": 360, "kind": "resume"}'), 60.0),
    ],
)
def test_simulate_wall_seconds_is_the_time_the_session_took(
    run_backrub: RunBackrub,
    tmp_path: Path,
    plan_file: Path,
    lines: tuple[str, ...],
    paused: float,
) -> None:
    """Hands-on time plus the pauses: not the engine's look three budgets ahead."""
    events = write_events(tmp_path, *lines)
    data = json.loads(
        run_backrub("simulate", "--plan", str(plan_file), "--events", str(events), "--json").stdout
    )
    summary = data["summary"]
    assert data["status"] == "finished"
    assert summary["wall_seconds"] == pytest.approx(summary["worked_seconds"] + paused, abs=0.2)
    assert summary["worked_seconds"] == pytest.approx(20 * 60, rel=0.05)
    # The budget is a whole number of seconds in plans and in simulations alike.
    plan_budget = json.loads(plan_file.read_text())["budget_seconds"]
    assert data["budget_seconds"] == summary["budget_seconds"] == plan_budget == 1200
    assert type(data["budget_seconds"]) is type(summary["budget_seconds"]) is int


def test_show_and_history_count_feedback_apart_from_save_points(tmp_path: Path) -> None:
    database = tmp_path / "e.sqlite3"
    plan = make_plan(PlanRequest(minutes=10))
    events = [
        Event(at=10, kind=EventKind.TICK),
        Event(at=20, kind=EventKind.MORE),
        Event(at=30, kind=EventKind.TICK),
        Event(at=35, kind=EventKind.KNOT, region="teres-left"),
        Event(at=40, kind=EventKind.FELT, value=5),
        Event(at=124, kind=EventKind.STOP),
    ]
    with Store.open(f"sqlite:///{database}") as store:
        session_id = store.start_session(plan.to_json())
        engine = SessionEngine(plan)
        for item in events:
            store.append_event(session_id, item)
            engine.apply(item)
        summary = summarize(engine)
        store.end_session(session_id, "stopped", summary)

    listing = json.loads(run_with_database(database, "history", "--json").stdout)
    assert (listing["sessions"][0]["events"], listing["sessions"][0]["save_points"]) == (4, 2)
    assert "4 (2 save points)" in run_with_database(database, "history").stdout

    shown = json.loads(run_with_database(database, "show", session_id, "--events", "--json").stdout)
    assert shown["event_list"] == [
        {"at": 20.0, "kind": "more"},
        {"at": 35.0, "kind": "knot", "region": "teres-left"},
        {"at": 40.0, "kind": "felt", "value": 5},
        {"at": 124.0, "kind": "stop"},
    ]
    assert "event_list" not in json.loads(
        run_with_database(database, "show", session_id, "--json").stdout
    )

    text = run_with_database(database, "show", session_id, "--events").stdout
    assert "4 events, 2 save points" in text
    listed = text[text.rindex("Events") :]
    assert "teres-left" in listed and "0:35" in listed and "tick" not in listed
    # The same statements as the summary page, from the same figures.
    verdict, _ = sides_in_words(summary["sides"], default_atlas())
    assert verdict in " ".join(text.split())
    assert "Stopped before it reached" in text and "not done:" in text


def test_simulate_takes_where_it_hurts_and_pain_twice_leaves_that_region(
    run_backrub: RunBackrub, tmp_path: Path, plan_file: Path
) -> None:
    events = write_events(
        tmp_path,
        '{"at": 400, "kind": "pain", "region": "latissimus-left"}',
        '{"at": 420, "kind": "pain", "region": "latissimus-left"}',
    )
    result = run_backrub("simulate", "--plan", str(plan_file), "--events", str(events), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [item["region"] for item in data["summary"]["left_out"]] == ["latissimus-left"]
    reactions = [r["what"] for r in data["reactions"] if r["event"] == "pain"]
    assert any("latissimus-left left out" in what for what in reactions)
    assert any("one level lighter" in what for what in reactions)
