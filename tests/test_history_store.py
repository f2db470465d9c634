"""A saved receiver's past sessions reach the next plan: from the store, through
`backrub plan --receiver`, and on the web (the plan, and the knot trend on the profile page)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pexpect

from backrub.planner import PlanRequest, make_plan
from backrub.session import Event, EventKind, SessionEngine
from backrub.session.summary import summarize
from backrub.store import Store
from backrub.store.history import receiver_history, saved_choices
from tests.webserver import run_command, start_server

TRAPS_LEFT = "Top ridge of the trapezius (shrug muscle) (left)"
BETWEEN_LEFT = "Between the spine and the shoulder blade (left)"
SAVED = {
    "minutes": 30,
    "pressure": 3,
    "activities": [],
    "trouble_spots": [],
    "order": "top-down",
    "routine": "classic",
}


@dataclass(frozen=True)
class Past:
    profile_id: int
    sessions: tuple[str, str, str]  # oldest first


def store_history(url: str) -> Past:
    """Sam's three sessions: each time "more" on the left shrug muscle's kneading; a knot between
    the spine and the left shoulder blade in the first (released after 60 s) and the last (25 s)."""
    plan = make_plan(PlanRequest(minutes=30, receiver="Sam"))
    starts = dict(zip((step.id for step in plan.steps), plan.starts(), strict=True))
    traps = starts["upper-back.knead-traps.left"] + 5
    circles = starts["upper-back.heel-circles.left"] + 5
    knot_for = {0: 60.0, 1: None, 2: 25.0}
    ids = []
    with Store.open(url) as store:
        profile_id = store.create_profile("Sam", dict(SAVED))
        for number in range(3):
            events = [Event(at=traps, kind=EventKind.MORE)]
            seconds = knot_for[number]
            if seconds is not None:
                events += [
                    Event(at=circles, kind=EventKind.KNOT, region="middle-trapezius-left"),
                    Event(at=circles + seconds, kind=EventKind.RELEASED),
                ]
            events.append(Event(at=circles + 200, kind=EventKind.STOP))
            session_id = store.start_session(plan.to_json(), profile_id)
            for event in events:
                store.append_event(session_id, event)
            engine = SessionEngine.replay(plan, events)
            store.end_session(session_id, "stopped", summarize(engine))
            ids.append(session_id)
    return Past(profile_id, (ids[0], ids[1], ids[2]))


def expected_notes(past: Past) -> list[str]:
    oldest, middle, newest = (session_id[:8] for session_id in past.sessions)
    return [
        f"{TRAPS_LEFT} starts at 4 (firm), not 3 (moderate): where the pressure landed in the "
        f"receiver's band ({newest}: 4, {middle}: 4, {oldest}: 4; newest counts most).",
        f"A knot came back on {BETWEEN_LEFT} (sessions {newest}, {oldest}): extra work there, "
        "its area first and the work early in it (problem-first for that spot).",
    ]


def run_backrub(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BACKRUB_DATABASE_URL": url, "COLUMNS": "160", "NO_COLOR": "1"}
    return run_command(list(args), env=env, timeout=120)


def test_the_store_gives_the_receivers_sessions_newest_first(database_url: str) -> None:
    past = store_history(database_url)
    with Store.open(database_url) as store:
        digests = receiver_history(store, past.profile_id)
        choices = saved_choices(store.profile(past.profile_id))
    assert [d.session_id for d in digests] == list(reversed(past.sessions))
    assert [len(d.knots) for d in digests] == [1, 0, 1]
    first_word = digests[0].feedback[0]
    assert (first_word.region, first_word.kind, first_word.pressure) == (
        "upper-trapezius-left",
        "more",
        3,
    )
    assert choices == SAVED
    plan = make_plan(PlanRequest.model_validate(choices), history=digests)
    assert [note for note in plan.notes if "starts at" in note or "came back" in note] == (
        expected_notes(past)
    )


def test_plan_for_a_saved_receiver_learns_from_their_history(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'history.sqlite3'}"
    past = store_history(url)
    result = run_backrub(url, "plan", "--receiver", "Sam", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["request"]["receiver"] == "Sam" and plan["request"]["minutes"] == 30
    pressures = {step["id"]: step["pressure"] for step in plan["steps"]}
    assert pressures["upper-back.knead-traps.left"] == 4
    assert pressures["upper-back.knead-traps.right"] == 3
    assert [n for n in plan["notes"] if "starts at" in n or "came back" in n] == (
        expected_notes(past)
    )
    assert plan["phases"][1]["phase"] == "upper-back"  # the knot's area first
    # Options given on the command line still win over the saved choices.
    shorter = run_backrub(url, "plan", "--receiver", "Sam", "--minutes", "25", "--json")
    assert json.loads(shorter.stdout)["request"]["minutes"] == 25
    table = run_backrub(url, "plan", "--receiver", "Sam")
    assert table.returncode == 0 and "starts at 4 (firm)" in table.stdout


def test_plan_for_an_unknown_receiver_is_a_clear_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'history.sqlite3'}"
    store_history(url)
    unknown = run_backrub(url, "plan", "--receiver", "Kim")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == (
        "backrub: error: --receiver: no saved receiver named 'Kim' (saved receivers: 'Sam')"
    )
    assert unknown.stdout == ""
    profile = tmp_path / "sam.toml"
    profile.write_text("minutes = 20\n", encoding="utf-8")
    both = run_backrub(url, "plan", "--receiver", "Sam", "--profile", str(profile))
    assert both.returncode == 2 and "not both" in both.stderr


def test_the_web_plans_from_history_and_the_profile_shows_the_trend(
    tmp_path: Path, database_url: str
) -> None:
    past = store_history(database_url)
    server = start_server(tmp_path, env={"BACKRUB_DATABASE_URL": database_url})
    try:
        with server.client() as client:
            page = client.get(f"/profiles/{past.profile_id}")
            start = client.get(f"/?profile={past.profile_id}")
            planned = client.post("/api/plans", json={"profile_id": past.profile_id, "minutes": 30})
    finally:
        server.stop()
    assert page.status_code == 200
    trend = re.search(r'<ul class="plain-list" id="knot-trends".*?</ul>', page.text, re.S)
    assert trend, "no knot trend on the profile page"
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", trend.group(0))).strip()
    assert text == (
        f"{BETWEEN_LEFT} : released faster (found in 2 sessions; last time: released after "
        "25 s; the time before: released after 60 s)"
    )
    assert 'data-region="middle-trapezius-left" data-trend="faster"' in trend.group(0)
    assert "The plan learns from their past sessions" in start.text
    assert planned.status_code == 200, planned.text
    notes = planned.json()["plan"]["notes"]
    assert [n for n in notes if "starts at" in n or "came back" in n] == expected_notes(past)


def test_guide_for_a_saved_receiver_keeps_the_session_with_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'guide.sqlite3'}"
    with Store.open(url) as store:
        profile_id = store.create_profile(
            "Sam",
            {
                **SAVED,
                "minutes": 5,
                "check_ins": [{"at": "2026-11-30T08:00:00+00:00", "regions": ["neck-left"]}],
            },
        )
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env.update(TERM="xterm-256color", BACKRUB_DATABASE_URL=url, BACKRUB_GUIDE_SPEED="200")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "backrub", "guide", "--receiver", "Sam"],
        env=env,
        cwd=str(tmp_path),
        dimensions=(30, 100),
        encoding="utf-8",
        timeout=60,
    )
    try:
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, child.before
    with Store.open(url) as store:
        [session] = store.sessions(profile_id=profile_id)
        check_in = store.profile(profile_id).data["check_ins"][-1]
    assert session.status == "finished"
    request = session.plan["request"]
    assert (request["receiver"], request["minutes"], request["sore_spots"]) == (
        "Sam",
        5,
        ["neck-left"],
    )
    assert check_in["used_by"] == session.id  # the sore spots are not taken in twice
    unknown = run_backrub(url, "guide", "--receiver", "Kim")
    assert unknown.returncode == 2 and "no saved receiver named 'Kim'" in unknown.stderr


def test_a_session_that_goes_on_is_read_again(tmp_path: Path) -> None:
    plan = make_plan(PlanRequest(minutes=20))
    traps = dict(zip((s.id for s in plan.steps), plan.starts(), strict=True))[
        "upper-back.knead-traps.left"
    ]
    with Store.open(f"sqlite:///{tmp_path / 'running.sqlite3'}") as store:
        profile_id = store.create_profile("Sam", {})
        session_id = store.start_session(plan.to_json(), profile_id)
        store.append_event(session_id, Event(at=traps + 5, kind=EventKind.MORE))
        [before] = receiver_history(store, profile_id)
        assert receiver_history(store, profile_id) == [before]  # kept, the same
        store.append_event(session_id, Event(at=traps + 10, kind=EventKind.LESS))
        [after] = receiver_history(store, profile_id)
    assert [f.kind for f in before.feedback] == ["more"]
    assert [f.kind for f in after.feedback] == ["more", "less"]
