"""Live changes: the executor follows the session engine's events on the path ahead.

`less` / `more` ramp the force one level down / up over about half a second (up no faster than
the rising-force limit); `pain` halves the force within 100 ms; `stop` brings it to 0 N within
250 ms, then lifts the tool 3 cm straight back and ends the path. Level changes and pain last
until the step ends: the engine's re-plan sets what follows. After each event the next two
seconds are re-generated and re-checked (`react`); `apply_events` applies a whole script.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from backrub.method.words import contact_info
from backrub.robot.caps import first_breach
from backrub.robot.executor import UnsafePlanError
from backrub.robot.sampler import shape_force
from backrub.robot.toolpath import CONTACTS, ToolPath
from backrub.session.events import Event, EventKind

LIVE_KINDS = frozenset({EventKind.LESS, EventKind.MORE, EventKind.PAIN, EventKind.STOP})
# After a stop the path holds the lifted tool this long, then ends.
STOP_HOLD_S = 0.5


def _ramp(path: ToolPath, at: float, seconds: float) -> np.ndarray:
    return np.clip((path.t - at) / seconds, 0.0, 1.0)


def _level_range(path: ToolPath) -> tuple[np.ndarray, np.ndarray]:
    limits = path.context.restrictions
    top = int(limits.max_pressure) if limits.max_pressure is not None else 5
    lows = np.array([contact_info(c).min for c in CONTACTS])
    highs = np.array([min(contact_info(c).max, top) for c in CONTACTS])
    return lows, highs


def _change_level(path: ToolPath, at: float, change: int, mask: np.ndarray) -> ToolPath:
    live = path.context.figures.live
    lows, highs = _level_range(path)
    level = path.level.astype(int)
    wanted = np.clip(level + change, lows[path.contact], highs[path.contact])
    forces = path.context.level_forces()
    ratio = forces[path.contact, wanted] / forces[path.contact, level]
    weight = _ramp(path, at, live.level_ramp_s)
    scale = np.where(mask, 1 - weight + weight * ratio, 1.0)
    levels = np.where(mask, wanted, level).astype(np.int8)
    return replace(path, target=path.target * scale, level=levels)


def _stop(path: ToolPath, at: float, index: int) -> ToolPath:
    live = path.context.figures.live
    after = path.t >= at
    weight = _ramp(path, at, live.stop_s)
    target = np.where(after, path.target * (1 - weight), path.target)
    end = min(len(path), path.index_at(at + live.stop_s + live.lift_s + STOP_HOLD_S) + 1)
    lifting = (path.t - at - live.stop_s) / live.lift_s
    share = (1 - np.cos(np.pi * np.clip(lifting, 0.0, 1.0))) / 2
    lift = np.where(after, path.lift[index] + live.stop_lift_m * share, path.lift)
    # Hold still where the tool was, and back straight off toward the giver (-z).
    position = path.position.copy()
    position[after] = path.position[index]
    position[after, 2] -= lift[after] - path.lift[index]
    frozen = {
        name: np.where(after[:, None], getattr(path, name)[index], getattr(path, name))
        for name in ("frame_xy", "normal", "quaternion")
    }
    speed = path.speed.copy()
    moved = np.diff(position, axis=0)
    speed[:-1] = np.sqrt(np.einsum("ij,ij->i", moved, moved)) * path.rate_hz
    working = path.working & ~(path.t >= at + live.stop_s)
    stopped = replace(
        path,
        target=target,
        lift=lift,
        position=position,
        speed=speed,
        working=working,
        region=np.where(after, path.region[index], path.region).astype(np.int16),
        **frozen,
    )
    return stopped.window(0, end)


def respond(path: ToolPath, event: Event) -> ToolPath:
    """The path with one event's change applied from its time on (force re-shaped, unchecked)."""
    if event.kind not in LIVE_KINDS or len(path) == 0 or event.at > path.t[-1]:
        return path
    index = path.index_at(event.at)
    live = path.context.figures.live
    this_step = (path.t >= event.at) & (path.step == path.step[index])
    if event.kind is EventKind.STOP:
        changed = _stop(path, event.at, index)
    elif event.kind is EventKind.PAIN:
        weight = _ramp(path, event.at, live.pain_s)
        scale = np.where(this_step, 1 - weight * (1 - live.pain_factor), 1.0)
        changed = replace(path, target=path.target * scale)
    else:
        change = 1 if event.kind is EventKind.MORE else -1
        changed = _change_level(path, event.at, change, this_step)
    reshaped = shape_force(changed, start_force=float(path.force[0]))
    return replace(reshaped, events=(*path.events, f"{event.at:g} {event.kind.value}"))


def apply_events(path: ToolPath, events: Iterable[Event]) -> ToolPath:
    """A whole script of events applied in time order, then every sample checked."""
    for event in sorted(events, key=lambda e: e.at):
        path = respond(path, event)
    breach = first_breach(path)
    if breach is not None:
        raise UnsafePlanError(breach)
    return path


def react(path: ToolPath, event: Event) -> ToolPath:
    """The next `horizon_s` seconds after an event, re-generated and re-checked on their own.

    What a live executor runs when an event arrives: small enough to finish within a control
    period. The window starts at the sample before the event, so the force carries on from
    what was really commanded.
    """
    start = max(0, path.index_at(event.at) - 1)
    horizon = round(path.context.figures.live.horizon_s * path.rate_hz)
    window = respond(path.window(start, start + horizon + 1), event)
    breach = first_breach(window)
    if breach is not None:
        raise UnsafePlanError(breach)
    return window
