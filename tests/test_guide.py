"""`backrub guide` driven as a person would: a real process on a terminal, keys in, screen out."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import termios
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest
from rich.console import Console
from rich.text import Text

from backrub.cli.guide_command import big_letters, draw
from backrub.cli.profile import build_request
from backrub.planner import Plan, make_plan
from backrub.session import Event, EventKind, SessionEngine
from backrub.session.view import view_of
from backrub.store import Store

LEGEND = "q stop"
TIMEOUT = 20

Spawn = Callable[..., pexpect.spawn]


def guide_env(tmp_path: Path, *, speed: float = 1.0, path: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env.update(
        TERM="xterm-256color",
        BACKRUB_DATABASE_URL=f"sqlite:///{tmp_path}/t.sqlite3",
        BACKRUB_GUIDE_SPEED=str(speed),
    )
    if path is not None:
        env["PATH"] = path
    return env


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """Start `backrub guide ARGS` on a 100 x 30 terminal; every child is gone after the test."""
    children: list[pexpect.spawn] = []

    def start(*args: str, speed: float = 1.0, path: str | None = None) -> pexpect.spawn:
        child = pexpect.spawn(
            sys.executable,
            ["-m", "backrub", "guide", *args],
            env=guide_env(tmp_path, speed=speed, path=path),
            cwd=str(tmp_path),
            dimensions=(30, 100),
            encoding="utf-8",
            timeout=TIMEOUT,
        )
        children.append(child)
        return child

    yield start
    for child in children:
        if child.isalive():
            child.kill(signal.SIGKILL)
        child.close(force=True)


def store_for(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path}/t.sqlite3")


def pressed(events: list[Event]) -> list[tuple[str, int | None]]:
    """The events a person caused, without the save points and the end the guide logs."""
    own = (EventKind.TICK, EventKind.END)
    return [(e.kind.value, e.value) for e in events if e.kind not in own]


def on_screen(text: str) -> str:
    """A pattern for `text` as it shows: styles may change anywhere in it, spaces may be moves."""
    style = r"(?:\x1b\[[0-9;]*m)*"
    return style.join(re.escape(char) for char in text)


def expect_shown(child: pexpect.spawn, text: str) -> None:
    child.expect(on_screen(text))


def press(child: pexpect.spawn, key: str, *shown: str) -> None:
    """Press one key, then wait until each text shows on the screen, in order."""
    child.send(key)
    for text in shown:
        expect_shown(child, text)


def stop_and_read_the_id(child: pexpect.spawn) -> str:
    """Stop the session as a person would (q, then y) and read the id the guide prints last."""
    press(child, "q", "Stop the session?")
    press(child, "y", "Session stopped")
    expect_shown(child, "Session id: ")
    child.expect(r"[0-9a-f]{32}")
    session_id = str(child.after)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return session_id


def opening_steps(minutes: int) -> int:
    plan = make_plan(build_request(None, {"minutes": minutes}))
    return sum(1 for step in plan.steps if step.phase.value == "opening")


def find_a_knot_in_the_warm_up(child: pexpect.spawn, minutes: int) -> None:
    """`k` during the warm-up notes the knot (O1); skipping to the end of the warm-up starts it."""
    press(child, "k", "worked after the warm-up")
    for _ in range(opening_steps(minutes)):
        # One skip at a time, as a person would, until the warm-up is over and the knot starts
        # (a warm-up step may also end by itself between two keys).
        press(child, "j")
        try:
            child.expect(on_screen("knot ladder on"), timeout=1.5)
            return
        except pexpect.TIMEOUT:
            continue
    raise AssertionError("the knot found in the warm-up never started")


def first_cue(minutes: int) -> str:
    plan = make_plan(build_request(None, {"minutes": minutes}))
    return plan.steps[0].cue


def assert_one_line(output: str, *fragments: str) -> None:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "Traceback" not in output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# ---------------------------------------------------------------------------- a whole session


def test_keys_change_the_step_and_stopping_logs_exactly_the_keys(
    spawn: Spawn, tmp_path: Path
) -> None:
    child = spawn("--minutes", "10")
    expect_shown(child, first_cue(10)[:30])
    expect_shown(child, LEGEND)
    press(child, "m", "firmer: pressure 3")
    find_a_knot_in_the_warm_up(child, 10)
    press(child, "s", "up to knuckles", "with knuckles")
    press(child, "7", "felt 7: in the band 6-7")
    press(child, " ", "PAUSED", "Paused. Hands off")
    press(child, "m", "more ignored while paused")
    press(child, " ", "Resuming where you left off")
    press(child, "q", "Stop the session?")
    press(child, "n", "Not stopped")
    session_id = stop_and_read_the_id(child)

    with store_for(tmp_path) as store:
        record = store.session(session_id)
        events = store.events(session_id)
    assert record.status == "stopped"
    assert record.summary is not None and record.summary["knots"][0]["outcome"] == "interrupted"
    assert pressed(events) == [
        ("more", None),
        ("knot", None),
        *[("skip", None)] * opening_steps(10),
        ("still-tight", None),
        ("felt", 7),
        ("pause", None),
        ("more", None),
        ("resume", None),
        ("stop", None),
    ]
    assert [e.at for e in events] == sorted(e.at for e in events)


def test_a_session_at_high_speed_finishes_on_its_own(spawn: Spawn, tmp_path: Path) -> None:
    child = spawn("--minutes", "5", speed=200)
    expect_shown(child, "Session finished")
    expect_shown(child, "That is the end")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    with store_for(tmp_path) as store:
        [record] = store.sessions()
        events = store.events(record.id)
    assert record.status == "finished"
    assert record.summary is not None and record.summary["status"] == "finished"
    # Nobody pressed anything: only the save points the guide writes as the steps change,
    # and the end, logged like a stop so a replay of the log finishes too.
    assert pressed(events) == []
    assert events and [e.at for e in events] == sorted(e.at for e in events)
    assert [e.kind for e in events].count(EventKind.END) == 1 and events[-1].kind is EventKind.END
    assert SessionEngine.replay(Plan.from_json(record.plan), events).status.value == "finished"


def test_a_plan_file_and_speech_with_espeak_standing_in(spawn: Spawn, tmp_path: Path) -> None:
    plan = make_plan(build_request(None, {"minutes": 5}))
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan.to_json()), encoding="utf-8")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    spoken = tmp_path / "spoken.txt"
    fake = bin_dir / "espeak-ng"
    fake.write_text(f'#!/bin/sh\nfor last; do :; done\necho "$last" >> "{spoken}"\n')
    fake.chmod(0o755)

    child = spawn(
        "--plan",
        str(plan_file),
        "--speak",
        speed=200,
        path=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    )
    expect_shown(child, "Session finished")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    said = spoken.read_text(encoding="utf-8")
    assert "Sit your friend on a chair" in said
    assert plan.steps[0].cue in said


# ---------------------------------------------------------------------------- crash and resume


def test_a_killed_guide_loses_nothing_and_resumes_at_the_same_step(
    spawn: Spawn, tmp_path: Path
) -> None:
    child = spawn("--minutes", "10")
    expect_shown(child, LEGEND)
    press(child, "m", "firmer: pressure 3")
    find_a_knot_in_the_warm_up(child, 10)
    press(child, "s", "up to knuckles")
    press(child, "l", "lighter: pressure 3")
    child.kill(signal.SIGKILL)
    child.expect(pexpect.EOF)
    child.close()
    assert child.signalstatus == signal.SIGKILL

    with store_for(tmp_path) as store:
        record = store.last_unfinished()
        assert record is not None
        events = store.events(record.id)
    assert pressed(events) == [
        ("more", None),
        ("knot", None),
        *[("skip", None)] * opening_steps(10),
        ("still-tight", None),
        ("less", None),
    ]
    replayed = SessionEngine.replay(Plan.from_json(record.plan), events)
    current = replayed.state.current
    assert current is not None and current.contact.value == "knuckles"

    resumed = spawn("--resume")
    expect_shown(resumed, "Resumed where the session was left")
    expect_shown(resumed, current.cue[:30])
    expect_shown(resumed, "with knuckles")
    press(resumed, "q", "Stop the session?")
    press(resumed, "y", "Session stopped")
    resumed.expect(pexpect.EOF)
    resumed.close()
    assert resumed.exitstatus == 0

    with store_for(tmp_path) as store:
        after = store.session(record.id)
        all_events = store.events(record.id)
    assert after.status == "stopped"
    assert all_events[: len(events)] == events
    assert pressed(all_events)[-1] == ("stop", None)
    # The resumed clock ran: the stop came after the last event before the crash.
    assert all_events[-1].at > events[-1].at
    assert store_for(tmp_path).last_unfinished() is None


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_restores_the_terminal_and_leaves_the_session_resumable(
    spawn: Spawn, tmp_path: Path, number: signal.Signals
) -> None:
    child = spawn("--minutes", "10")
    expect_shown(child, LEGEND)
    press(child, "m", "firmer: pressure 3")
    assert not termios.tcgetattr(child.child_fd)[3] & termios.ICANON  # keys come one by one
    child.kill(number)
    expect_shown(child, "--resume")
    child.expect(pexpect.EOF)
    # On Linux the master side reads the terminal's settings: lines and echo are back.
    lflag = termios.tcgetattr(child.child_fd)[3]
    assert lflag & termios.ICANON and lflag & termios.ECHO
    child.close()
    assert child.exitstatus == 128 + number

    with store_for(tmp_path) as store:
        record = store.last_unfinished()
        assert record is not None
        assert pressed(store.events(record.id)) == [("more", None)]


# ---------------------------------------------------------------------------- refusals


def run_guide(
    tmp_path: Path, *args: str, path: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backrub", "guide", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=guide_env(tmp_path, path=path),
        timeout=60,
    )


def test_without_a_terminal_it_names_simulate(tmp_path: Path) -> None:
    result = run_guide(tmp_path, "--minutes", "5")
    assert result.returncode == 2, result.stderr
    assert_one_line(result.stderr, "needs a terminal", "backrub simulate")
    assert not (tmp_path / "t.sqlite3").exists()


def test_speak_without_espeak_refuses_before_touching_the_store(tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = run_guide(tmp_path, "--minutes", "5", "--speak", path=str(empty))
    assert result.returncode == 2, result.stderr
    assert_one_line(result.stderr, "espeak-ng is not installed", "run without --speak")
    assert not (tmp_path / "t.sqlite3").exists()


def test_a_refused_screening_prints_the_reason(tmp_path: Path) -> None:
    result = run_guide(tmp_path, "--minutes", "5", "--yes", "fever-or-infection")
    assert result.returncode == 1, result.stderr
    assert "Not today" in result.stdout
    assert "illness" in result.stdout


def test_resume_with_nothing_to_resume(spawn: Spawn, tmp_path: Path) -> None:
    child = spawn("--resume")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert_one_line(child.before, "no unfinished session to resume")


def test_resume_refuses_plan_options(tmp_path: Path) -> None:
    result = run_guide(tmp_path, "--resume", "--minutes", "5")
    assert result.returncode == 2
    assert_one_line(result.stderr, "--resume")


# ---------------------------------------------------------------------------- the screen


def rendered(engine: SessionEngine, width: int, height: int, **options: object) -> list[str]:
    console = Console(width=width, height=height, file=io.StringIO(), color_system=None)
    screen = draw(
        view_of(engine, recent=12),
        engine.atlas,
        width=width,
        height=height,
        feedback=Text("Keys below"),
        **options,
    )  # type: ignore[arg-type]
    console.print(screen)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    return output.rstrip("\n").split("\n")


@pytest.mark.parametrize(("width", "height"), [(80, 24), (100, 30), (140, 45)])
def test_the_screen_fits_the_terminal_with_the_legend_whole(width: int, height: int) -> None:
    plan = make_plan(build_request(None, {"minutes": 10}))
    engine = SessionEngine(plan)
    states = [[]]
    # Past the warm-up first: a knot found during it waits until it is over (O1, O4).
    skips = [Event(at=1, kind=EventKind.SKIP)] * opening_steps(10)
    states.append(
        [
            *skips,
            Event(at=2, kind=EventKind.KNOT, region="middle-trapezius-left"),
            Event(at=3, kind=EventKind.STILL_TIGHT),
            Event(at=4, kind=EventKind.STILL_TIGHT),
            Event(at=5, kind=EventKind.STILL_TIGHT),
        ]
    )
    states.append([Event(at=1, kind=EventKind.PAUSE)])
    for events in states:
        engine = SessionEngine.replay(plan, events)
        lines = rendered(engine, width, height)
        assert len(lines) <= height, "\n".join(lines)
        assert all(len(line) <= width for line in lines)
        text = "\n".join(lines)
        assert LEGEND in text and "m more" in text and "space pause" in text
    assert "Ask: elbow?" in "\n".join(
        rendered(SessionEngine.replay(plan, states[1]), width, height)
    )


def test_the_stop_question_replaces_the_feedback_line() -> None:
    engine = SessionEngine(make_plan(build_request(None, {"minutes": 10})))
    text = "\n".join(rendered(engine, 80, 24, confirming_stop=True))
    assert "Stop the session? y = stop, n = carry on" in text


def test_big_letters_are_three_lines_of_equal_width() -> None:
    lines = big_letters("KNEAD")
    assert len(lines) == 3
    assert len({len(line) for line in lines}) == 1
    assert re.fullmatch(r"[ ▀▄█]+", "".join(lines))


# ---------------------------------------------------------------------------- +30 s and back


LEFT_ON_BAR = re.compile(r"(\d+):(\d\d)(?:\x1b\[[0-9;]*m)*(?: |\x1b\[1C)(?:\x1b\[[0-9;]*m)*left")


def step_seconds_left(child: pexpect.spawn) -> int:
    """The step's time left on the next screen drawn (its bar comes first, above the session's)."""
    child.expect(LEFT_ON_BAR)
    minutes, seconds = child.match.groups()
    return int(minutes) * 60 + int(seconds)


def test_e_gives_the_step_30_s_and_b_goes_back_a_step_but_not_from_the_first(
    spawn: Spawn, tmp_path: Path
) -> None:
    plan = make_plan(build_request(None, {"minutes": 10}))
    first, second = plan.steps[0], plan.steps[1]
    child = spawn("--minutes", "10")
    expect_shown(child, first.cue[:30])
    expect_shown(child, "e +30 s here")
    expect_shown(child, "b back one step")
    # On the first step there is nothing to go back to: the engine says so, in words.
    press(child, "b", "back one step", "not going back: this is the first step")
    before = step_seconds_left(child)
    press(child, "e", "+30 s here", "30 s more on Muscles beside the spine")
    after = step_seconds_left(child)
    # Two screens a moment apart: the step's clock jumped by about half a minute.
    assert after > before + 15, (before, after)
    press(child, "j", second.cue[:30])
    press(child, "b", "the step before again: Muscles beside the spine", first.cue[:30])
    session_id = stop_and_read_the_id(child)

    with store_for(tmp_path) as store:
        events = store.events(session_id)
    assert pressed(events) == [
        ("back", None),
        ("extend", None),
        ("skip", None),
        ("back", None),
        ("stop", None),
    ]
    # Logged like any key: a replay of the log makes the same moves.
    kinds = [event.kind for event in events]
    extended = SessionEngine.replay(plan, events[: kinds.index(EventKind.EXTEND) + 1])
    assert extended.state.current is not None and extended.state.current.id == first.id
    assert extended.state.current.seconds == first.seconds + 30
    went_back = SessionEngine.replay(plan, events[: kinds.index(EventKind.STOP)])
    assert went_back.state.current is not None and went_back.state.current.id == first.id
    assert went_back.state.queue[0].id == second.id  # the rest of the second step comes next


def test_a_long_answer_takes_two_lines_and_leaves_the_legend_whole() -> None:
    plan = make_plan(build_request(None, {"minutes": 10}))
    engine = SessionEngine.replay(
        plan, [Event(at=1, kind=EventKind.SKIP), Event(at=2, kind=EventKind.EXTEND)]
    )
    answer = engine.state.reactions[-1].what
    assert len(answer) > 80  # the other side gets the time too: too long for one line
    console = Console(width=80, height=24, file=io.StringIO(), color_system=None)
    feedback = Text(f" e  +30 s here → {answer}")
    console.print(draw(view_of(engine), engine.atlas, width=80, height=24, feedback=feedback))
    lines = console.file.getvalue().rstrip("\n").split("\n")  # type: ignore[attr-defined]
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    text = " ".join(line.strip() for line in lines)
    assert "later steps are shorter" in text
    assert "e +30 s here  b back one step" in text and LEGEND in text
