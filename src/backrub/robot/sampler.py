"""A plan sampled at a fixed rate into a tool path, vectorized over every sample.

Each sample's segment is found by one search; positions, forces and codes then come from
array arithmetic per technique. Force is shaped in three steps: the level's force, lowered to the
lowest cap where the tool is (bone, kidney area, neck...), then limited in how fast it may rise.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from backrub.atlas import Atlas, default_atlas
from backrub.method.vocabulary import Contact, Technique
from backrub.planner import Plan
from backrub.robot.caps import force_limit
from backrub.robot.figures import Figures, robot_figures
from backrub.robot.regions import region_grid
from backrub.robot.segments import SPOT_TECHNIQUES, Segments, build_segments
from backrub.robot.surface import BackSurface, pressing_quaternion
from backrub.robot.toolpath import (
    FloatArray,
    PathContext,
    ToolPath,
    technique_code,
)

DEFAULT_RATE_HZ = 500.0
# Force eases to nothing over the last moments of each line of work (easing off may be quick).
EASE_OFF_S = 0.25
# Circles stay this far inside the room a line has, and reach their radius over this time.
CIRCLE_MARGIN_M = 0.002
CIRCLE_GROW_S = 0.5
# Percussion lifts between strikes; the lift fades in and out at the ends of its line.
STRIKE_FADE_S = 0.2


def rate_limited(target: FloatArray, t: FloatArray, rate: float) -> FloatArray:
    """The highest force at or under `target` that rises no faster than `rate` N/s.

    force[i] = min over j <= i of (target[j] + rate * (t[i] - t[j])), which is a running
    minimum: vectorized, and exact, for any target. Falling is not limited.
    """
    return np.asarray(rate * t + np.minimum.accumulate(target - rate * t), dtype=float)


def forward_minimum(values: FloatArray, window: int) -> FloatArray:
    """The least of values[i : i + window] for each i, in linear time (van Herk / Gil-Werman).

    Used on force limits so that force eases off before the tool reaches a lighter region,
    not at its edge: a controller needs a moment to follow."""
    count = len(values)
    if count == 0 or window <= 1:
        return values
    blocks = -(-count // window) + 1
    padded = np.full(blocks * window, np.inf)
    padded[:count] = values
    table = padded.reshape(blocks, window)
    prefix = np.minimum.accumulate(table, axis=1).ravel()
    suffix = np.minimum.accumulate(table[:, ::-1], axis=1)[:, ::-1].ravel()
    index = np.arange(count)
    return np.asarray(np.minimum(suffix[index], prefix[index + window - 1]), dtype=float)


def path_context(plan: Plan, figures: Figures, atlas: Atlas) -> PathContext:
    elbow = [step.contact is Contact.ELBOW for step in plan.steps]
    return PathContext(
        figures=figures,
        grid=region_grid(atlas),
        fit=plan.request.fit,
        restrictions=plan.restrictions,
        step_ids=tuple(step.id for step in plan.steps),
        step_starts=tuple(plan.starts()),
        elbow_warm=tuple(index > 0 and elbow[index - 1] for index in range(len(elbow))),
    )


def _technique_table(figures: Figures) -> dict[str, FloatArray]:
    """Per technique code: travel speed, circle radius and frequency, strike frequency."""
    motion = figures.motion
    size = len(Technique)
    table = {key: np.zeros(size) for key in ("speed", "radius", "hz", "strike")}
    travel = {
        Technique.SWEEP: motion.sweep_speed_m_s,
        Technique.PALM_COMPRESSION: motion.compression_speed_m_s,
        Technique.KNEADING: motion.compression_speed_m_s,
        Technique.PERCUSSION: motion.percussion_speed_m_s,
    }
    for technique, speed in travel.items():
        table["speed"][technique_code(technique)] = speed
    for technique, rhythm in (
        (Technique.KNEADING, motion.kneading),
        (Technique.CIRCLES, motion.circles),
        (Technique.MILD_RUBBING, motion.mild_rubbing),
    ):
        table["radius"][technique_code(technique)] = rhythm.radius_m
        table["hz"][technique_code(technique)] = rhythm.hz
    table["strike"][technique_code(Technique.PERCUSSION)] = motion.percussion_strike.hz
    return table


def _along(segs: Segments, line: np.ndarray, s: FloatArray) -> FloatArray:
    """Points at arc length s along each sample's line."""
    if len(segs.piece_a) == 0:
        return np.zeros((len(s), 2))
    wanted = segs.line_offset[line] + s
    piece = np.searchsorted(segs.piece_start, wanted, side="right") - 1
    piece = np.clip(piece, segs.line_first[line], segs.line_last[line])
    length = np.maximum(segs.piece_length[piece], 1e-12)
    fraction = np.clip((wanted - segs.piece_start[piece]) / length, 0.0, 1.0)[:, None]
    return np.asarray(
        segs.piece_a[piece] + fraction * (segs.piece_b[piece] - segs.piece_a[piece]), dtype=float
    )


def sample_plan(
    plan: Plan,
    *,
    rate_hz: float = DEFAULT_RATE_HZ,
    figures: Figures | None = None,
    atlas: Atlas | None = None,
) -> ToolPath:
    """Sample every step of the plan (no checks here; see executor.plan_path)."""
    figures = figures or robot_figures()
    atlas = atlas or default_atlas()
    surface = BackSurface(plan.request.fit)
    segs = build_segments(plan, atlas, surface, figures)
    count = max(1, math.floor(segs.total_s * rate_hz))
    t = np.arange(count) / rate_hz
    if len(segs.start) == 0:
        raise ValueError("the plan has no steps to sample")
    # The first sample of each segment; each sample's segment follows from these, so the two
    # can never disagree at a boundary that falls within rounding of a sample time.
    edges = np.searchsorted(t, segs.start - 1e-9)
    ends = np.append(edges[1:], count)
    seg = np.clip(np.searchsorted(edges, np.arange(count), side="right") - 1, 0, len(edges) - 1)
    u = t - segs.start[seg]
    duration = segs.duration[seg]
    working = segs.working[seg]
    technique = segs.technique[seg]
    line = segs.line[seg]
    table = _technique_table(figures)

    # Travel: back and forth along the line, a raised cosine so the turns are smooth.
    length = segs.line_length[line]
    speed = table["speed"][technique]
    half_period = np.where(speed > 0, length / np.maximum(speed, 1e-9), np.inf)
    s = np.where(
        speed > 0,
        length * (1 - np.cos(np.pi * u / np.where(np.isinf(half_period), 1.0, half_period))) / 2,
        length / 2,
    )
    spot = np.isin(technique, [technique_code(tq) for tq in SPOT_TECHNIQUES])
    s = np.where(spot, length / 2, s)
    xy = _along(segs, line, s)
    # Circles (kneading, circles, rubbing) through the centre point, in the plane.
    # Circles (kneading, circles, rubbing) centred on the line's point, kept within the room
    # the line has before bone or the kidney area; the radius grows in over the first moments
    # so the tool does not jump.
    room = np.maximum(segs.line_room[line] - CIRCLE_MARGIN_M, 0.0)
    grow = np.clip(u / CIRCLE_GROW_S, 0.0, 1.0)
    circle = np.minimum(table["radius"][technique], room) * grow
    phase = 2 * np.pi * table["hz"][technique] * u
    xy[:, 0] += circle * np.sin(phase)
    xy[:, 1] += circle * np.cos(phase)

    # Lifted moves: straight between where the last line ended and where the next begins.
    moving = ~working
    lift = np.zeros(count)
    contact = segs.contact[seg]
    context = path_context(plan, figures, atlas)
    radius = context.radii_m[contact]
    for index in np.flatnonzero(~segs.working):
        first, stop = int(edges[index]), int(ends[index])
        if stop <= first:
            continue
        a = xy[first - 1] if first > 0 else xy[min(stop, count - 1)]
        b = xy[stop] if stop < count else a
        share = (1 - np.cos(np.pi * u[first:stop] / segs.duration[index])) / 2
        xy[first:stop] = a + share[:, None] * (b - a)
        # A change of tool between steps: the offset from the skin changes during the move.
        before = radius[first - 1] if first > 0 else radius[first]
        after = radius[stop] if stop < count else before
        radius[first:stop] = before + share * (after - before)
        lift[first:stop] = figures.motion.transit_lift_m * np.sin(
            np.pi * u[first:stop] / segs.duration[index]
        )

    # Percussion: strikes; the tool leaves the skin between them.
    strike_hz = table["strike"][technique]
    striking = strike_hz > 0
    pulse = np.where(striking, np.maximum(0.0, np.sin(2 * np.pi * strike_hz * u)) ** 2, 1.0)
    fade = np.clip(np.minimum(u, duration - u) / STRIKE_FADE_S, 0.0, 1.0)
    lift += np.where(
        striking & working, figures.motion.percussion_strike.lift_m * (1 - pulse) * fade, 0.0
    )

    frame_x, frame_y = surface.to_frame(xy[:, 0], xy[:, 1])
    height, hx, hy = surface.height_and_slope(xy[:, 0], xy[:, 1])
    norm = np.sqrt(1 + hx * hx + hy * hy)
    normal = np.stack([hx / norm, hy / norm, -1 / norm], axis=1)
    # The tool sits one radius out along the normal; lifts go straight back toward the giver
    # (-z), so a lifted tool does not swing as the normal turns under it.
    position = np.stack([xy[:, 0], xy[:, 1], height - lift], axis=1) + normal * radius[:, None]
    step_speed = np.zeros(count)
    moved = np.diff(position, axis=0)
    step_speed[:-1] = np.sqrt(np.einsum("ij,ij->i", moved, moved)) * rate_hz
    if count > 1:
        step_speed[-1] = step_speed[-2]

    level = segs.level[seg]
    base = context.level_forces()[contact, level]
    compressing = technique == technique_code(Technique.PALM_COMPRESSION)
    cycle = np.mod(u, figures.motion.compression_cycle_s) / figures.motion.compression_cycle_s
    base = np.where(compressing & (cycle >= 2 / 3), base * figures.motion.compression_rest, base)
    base = base * np.clip((duration - u) / EASE_OFF_S, 0.0, 1.0)
    base = np.where(moving, 0.0, base)
    base[0] = 0.0
    path = ToolPath(
        context=context,
        rate_hz=rate_hz,
        t=t,
        frame_xy=np.stack([frame_x, frame_y], axis=1),
        position=position,
        normal=normal,
        quaternion=pressing_quaternion(normal),
        lift=lift,
        target=base,
        pulse=pulse,
        force=np.zeros(count),
        speed=step_speed,
        region=context.grid.lookup(frame_x, frame_y),
        level=level.astype(np.int8),
        technique=technique.astype(np.int8),
        contact=contact.astype(np.int8),
        step=segs.step[seg].astype(np.int32),
        working=working,
    )
    return shape_force(path)


def shape_force(path: ToolPath, *, start_force: float = 0.0) -> ToolPath:
    """Force from target: lowered to the caps where the tool is, rate-limited, then struck.

    `start_force` is the force already commanded at the first sample (a window cut from a longer
    path): the force rises from there, not from the first target.
    """
    caps = path.context.figures.caps
    ahead = max(1, round(caps.ease_ahead_s * path.rate_hz))
    limit = forward_minimum(caps.shaping_margin * force_limit(path), ahead)
    target = np.minimum(path.target, limit)
    target = np.where(path.working, target, 0.0)
    limited = target.copy()
    if len(limited):
        limited[0] = min(limited[0], start_force / max(float(path.pulse[0]), 1e-9))
    envelope = rate_limited(limited, path.t, path.context.figures.motion.force_rate_n_s)
    force = np.maximum(envelope * path.pulse, 0.0)
    return replace(path, target=target, force=force)
