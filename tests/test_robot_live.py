"""Live changes on the robot path: less, more, pain and stop, as the engine's events arrive."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from backrub.method.vocabulary import Technique
from backrub.planner import PlanRequest, make_plan
from backrub.robot import breaches, plan_path
from backrub.robot.live import STOP_HOLD_S, apply_events, react, respond
from backrub.robot.toolpath import ToolPath, technique_code
from backrub.session.events import Event, EventKind

RATE = 500.0


@cache
def base() -> ToolPath:
    return plan_path(make_plan(PlanRequest(minutes=6)), rate_hz=RATE)


def steady_time(path: ToolPath, technique: Technique = Technique.CIRCLES) -> float:
    """A time in the middle of a line of work where the force has been steady for a while."""
    chosen = path.working & (path.technique == technique_code(technique))
    steady = chosen & (np.abs(path.force - path.target) < 1e-9) & (path.target > 3)
    # Steady for half a second either side: a run of steady samples at least a second long.
    half = int(RATE / 2)
    runs = np.convolve(steady.astype(int), np.ones(2 * half + 1, dtype=int), mode="same")
    middle = np.flatnonzero(runs == 2 * half + 1)
    assert len(middle), f"no steady {technique} in the plan"
    return float(path.t[middle[len(middle) // 2]])


def at(path: ToolPath, seconds: float) -> int:
    return path.index_at(seconds)


def test_less_ramps_down_one_level_over_half_a_second() -> None:
    path = base()
    when = steady_time(path)
    i = at(path, when)
    after = respond(path, Event(at=when, kind=EventKind.LESS))
    forces = path.context.level_forces()
    level, contact = int(path.level[i]), int(path.contact[i])
    assert after.level[i + 1] == level - 1 and after.level[i - 1] == level
    assert after.force[at(path, when + 0.5)] == pytest.approx(forces[contact, level - 1])
    assert after.force[at(path, when + 0.25)] > forces[contact, level - 1]  # a ramp, not a step
    window = slice(i, at(path, when + 0.5))
    assert (np.diff(after.force[window]) <= 1e-9).all()
    assert breaches(after) == []


def test_more_ramps_up_one_level_no_faster_than_the_rising_limit() -> None:
    path = base()
    when = steady_time(path)
    i = at(path, when)
    after = respond(path, Event(at=when, kind=EventKind.MORE))
    forces = path.context.level_forces()
    level, contact = int(path.level[i]), int(path.contact[i])
    goal = forces[contact, level + 1]
    rise = (goal - forces[contact, level]) / 20.0
    assert after.level[i + 1] == level + 1
    assert after.force[at(path, when + max(0.5, rise) + 0.01)] == pytest.approx(goal)
    this_step = np.flatnonzero(path.step == path.step[i])
    assert (np.diff(after.force[this_step]) * RATE <= 20 + 1e-6).all()
    assert breaches(after) == []


def test_pain_halves_the_force_within_100_ms_until_the_step_ends() -> None:
    path = base()
    when = steady_time(path)
    i = at(path, when)
    after = respond(path, Event(at=when, kind=EventKind.PAIN))
    held = path.force[i]
    assert after.force[at(path, when + 0.1)] <= held / 2 + 1e-9
    same_step = np.flatnonzero((path.step == path.step[i]) & (path.t >= when + 0.1))
    assert (after.force[same_step] <= path.force[same_step] / 2 + 1e-9).all()
    next_step = np.flatnonzero(path.step == path.step[i] + 1)
    assert np.allclose(after.force[next_step], path.force[next_step])
    assert breaches(after) == []


@pytest.mark.parametrize("technique", [Technique.CIRCLES, Technique.SWEEP, Technique.KNEADING])
def test_stop_reaches_zero_within_250_ms_then_lifts_the_tool_3_cm(technique: Technique) -> None:
    path = base()
    when = steady_time(path, technique)
    i = at(path, when)
    after = respond(path, Event(at=when, kind=EventKind.STOP))
    end = at(after, when + 0.25)
    assert path.force[i] > 3
    assert (after.force[end:] == 0).all() and not after.touching[end:].any()
    # The tool backs straight off the skin by 3 cm and holds there; the path then ends.
    assert after.lift[-1] - path.lift[i] == pytest.approx(0.03)
    assert after.position[i, 2] - after.position[-1, 2] == pytest.approx(0.03)
    assert np.allclose(after.position[-1, :2], path.position[i, :2])
    assert after.duration < when + 2.0
    assert breaches(after) == []


def test_react_regenerates_and_checks_the_next_two_seconds() -> None:
    path = base()
    when = steady_time(path)
    event = Event(at=when, kind=EventKind.PAIN)
    window = react(path, event)
    assert window.duration - window.t[0] == pytest.approx(2.0, abs=2 / RATE)
    whole = respond(path, event)
    start = at(path, when) - 1
    assert np.allclose(window.force, whole.force[start : start + len(window)])
    assert breaches(window) == []


def test_a_script_of_events_applies_in_time_order() -> None:
    path = base()
    first = steady_time(path)
    events = [
        Event(at=first + 20, kind=EventKind.STOP),
        Event(at=first, kind=EventKind.LESS),
        Event(at=first + 1, kind=EventKind.PAIN),
        Event(at=first + 2, kind=EventKind.KNOT, region="neck-left"),  # not the robot's to act on
    ]
    after = apply_events(path, events)
    assert after.events == (f"{first:g} less", f"{first + 1:g} pain", f"{first + 20:g} stop")
    # Stopped: down to 0 N, lifted, held lifted for a moment, then the path ends.
    live = path.context.figures.live
    ends = first + 20 + live.stop_s + live.lift_s + STOP_HOLD_S
    assert after.duration == pytest.approx(ends, abs=2 / RATE)
