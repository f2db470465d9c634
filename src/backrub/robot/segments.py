"""A plan cut into segments: work along one line of work, or a lifted move between two.

This is the only per-step Python loop of the sampler; a 30-minute plan has a few hundred
segments, and everything per sample is vectorized over them (sampler.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from backrub.atlas import Atlas, Point
from backrub.method.step import Step
from backrub.method.vocabulary import Contact, Technique
from backrub.planner import Plan
from backrub.render.steps import oriented
from backrub.robot.figures import Figures
from backrub.robot.surface import BackSurface
from backrub.robot.toolpath import FloatArray, contact_code, technique_code

IntArray = npt.NDArray[np.int64]

# Techniques worked on one spot (the middle of the line) rather than travelling along it.
SPOT_TECHNIQUES = frozenset({Technique.CIRCLES, Technique.STATIC_PRESSURE, Technique.MILD_RUBBING})
# Lifted moves take at least this long, and at most this share of a step when it has many lines.
_MIN_TRANSIT_S = 0.6
_TRANSIT_SHARE = 0.5
_FASTEST_TRANSIT_M_S = 0.12


@dataclass(frozen=True)
class Segments:
    """Per segment: timing and what is done; per line: the polyline, as flat pieces."""

    start: FloatArray
    duration: FloatArray
    working: npt.NDArray[np.bool_]
    step: IntArray
    technique: IntArray
    contact: IntArray
    level: IntArray
    line: IntArray  # the line worked (for a move: the line it goes to), index into line_*
    total_s: float
    # Lines, metres: pieces a->b laid end to end with a running arc length over all lines.
    piece_a: FloatArray
    piece_b: FloatArray
    piece_start: FloatArray  # running arc length where each piece starts
    piece_length: FloatArray
    line_offset: FloatArray  # running arc length where each line starts
    line_length: FloatArray
    line_first: IntArray  # first and last piece of each line
    line_last: IntArray
    line_room: FloatArray  # how far the tool's patch may stray from each line, metres


class _Builder:
    def __init__(self, surface: BackSurface, figures: Figures, atlas: Atlas) -> None:
        self.surface = surface
        self.figures = figures
        self.atlas = atlas
        self.rows: list[tuple[float, float, bool, int, int, int, int, int]] = []
        self.lines: list[FloatArray] = []
        self.room: list[float] = []

    def line(self, points: tuple[Point, ...], contact: Contact) -> int:
        xs, ys = self.surface.to_metres([p[0] for p in points], [p[1] for p in points])
        self.lines.append(np.stack([xs, ys], axis=1))
        self.room.append(self._room(points, contact))
        return len(self.lines) - 1

    def _room(self, points: tuple[Point, ...], contact: Contact) -> float:
        """Metres the tool's patch may stray from the line before it reaches bone or the
        kidney area (0 if the line is on one): circles are kept within it."""
        frame = np.array(points, dtype=float)
        along = np.linspace(0.0, 1.0, 12)
        dense = np.concatenate([a + along[:, None] * (b - a) for a, b in pairwise(frame)])
        clearance = self.atlas.geometry.clearance_cm(dense[:, 0], dense[:, 1], self.surface.fit)
        half_patch = math.sqrt(self.figures.tool(contact).area_m2) / 2
        return max(0.0, float(clearance.min()) / 100 - half_patch)

    def segment(
        self, start: float, seconds: float, working: bool, number: int, step: Step, line: int
    ) -> None:
        self.rows.append(
            (
                start,
                seconds,
                working,
                number,
                technique_code(step.technique),
                contact_code(step.contact),
                int(step.pressure),
                line,
            )
        )


def _entry(line: FloatArray, spot: bool) -> FloatArray:
    """Where work on a line begins: its start, or its middle for work on one spot."""
    if not spot:
        return np.asarray(line[0], dtype=float)
    lengths = np.linalg.norm(np.diff(line, axis=0), axis=1)
    along = np.concatenate([[0.0], np.cumsum(lengths)])
    half = along[-1] / 2
    return np.array([np.interp(half, along, line[:, 0]), np.interp(half, along, line[:, 1])])


# How far the tool may wander from its line of work (its circles), in metres.
_REACH_M = 0.03


def _transit_seconds(previous: FloatArray | None, entry: FloatArray, speed: float) -> float:
    if previous is None:
        return _MIN_TRANSIT_S
    far = float(np.max(np.linalg.norm(previous - entry, axis=1))) + _REACH_M
    # A raised-cosine move peaks at pi/2 times its mean speed.
    return max(_MIN_TRANSIT_S, math.pi / 2 * far / speed)


def step_lines(step: Step, atlas: Atlas) -> list[tuple[Point, ...]]:
    if step.path is not None:
        return [step.path]
    return [
        oriented(atlas.geometry.stroke_path(region_id), step.direction)
        for region_id in step.regions
    ]


def build_segments(plan: Plan, atlas: Atlas, surface: BackSurface, figures: Figures) -> Segments:
    builder = _Builder(surface, figures, atlas)
    clock = 0.0
    previous: FloatArray | None = None
    for number, step in enumerate(plan.steps):
        if step.seconds <= 0:
            continue
        spot = step.technique in SPOT_TECHNIQUES
        lines = [builder.line(points, step.contact) for points in step_lines(step, atlas)]
        moves: list[float] = []
        last = previous
        for line in lines:
            moves.append(
                _transit_seconds(
                    last, _entry(builder.lines[line], spot), figures.motion.transit_speed_m_s
                )
            )
            last = builder.lines[line]
        if number == 0 or previous is None:
            moves[0] = 0.0
        budget = _TRANSIT_SHARE * step.seconds
        if sum(moves) > budget:
            # Many lines in a short step: move faster between them, then drop lines that
            # still do not fit (the first line is always worked).
            speedup = min(
                sum(moves) / budget, _FASTEST_TRANSIT_M_S / figures.motion.transit_speed_m_s
            )
            moves = [max(_MIN_TRANSIT_S, move / speedup) if move else 0.0 for move in moves]
            while len(lines) > 1 and sum(moves) > budget:
                lines.pop()
                moves.pop()
        work = (step.seconds - sum(moves)) / len(lines)
        if work <= 0:
            moves = [0.0] * len(moves)
            work = step.seconds / len(lines)
        for line, move in zip(lines, moves, strict=True):
            if move > 0:
                builder.segment(clock, move, False, number, step, line)
                clock += move
            builder.segment(clock, work, True, number, step, line)
            clock += work
        previous = builder.lines[lines[-1]]
    return _assemble(builder, clock)


def _assemble(builder: _Builder, total: float) -> Segments:
    rows = builder.rows
    columns = list(zip(*rows, strict=True)) if rows else [()] * 8
    piece_a, piece_b, first, last, offsets, lengths = [], [], [], [], [], []
    count = 0
    for line in builder.lines:
        a, b = line[:-1], line[1:]
        piece_a.append(a)
        piece_b.append(b)
        first.append(count)
        count += len(a)
        last.append(count - 1)
    pieces_a = np.concatenate(piece_a) if piece_a else np.zeros((0, 2))
    pieces_b = np.concatenate(piece_b) if piece_b else np.zeros((0, 2))
    piece_length = np.linalg.norm(pieces_b - pieces_a, axis=1)
    piece_start = np.concatenate([[0.0], np.cumsum(piece_length)[:-1]])
    for start, end in zip(first, last, strict=True):
        offsets.append(piece_start[start])
        lengths.append(piece_length[start : end + 1].sum())
    return Segments(
        start=np.asarray(columns[0], dtype=float),
        duration=np.asarray(columns[1], dtype=float),
        working=np.asarray(columns[2], dtype=bool),
        step=np.asarray(columns[3], dtype=np.int64),
        technique=np.asarray(columns[4], dtype=np.int64),
        contact=np.asarray(columns[5], dtype=np.int64),
        level=np.asarray(columns[6], dtype=np.int64),
        line=np.asarray(columns[7], dtype=np.int64),
        total_s=total,
        piece_a=pieces_a,
        piece_b=pieces_b,
        piece_start=piece_start,
        piece_length=piece_length,
        line_offset=np.asarray(offsets, dtype=float),
        line_length=np.asarray(lengths, dtype=float),
        line_first=np.asarray(first, dtype=np.int64),
        line_last=np.asarray(last, dtype=np.int64),
        line_room=np.asarray(builder.room, dtype=float),
    )


def is_spot(technique: Technique) -> bool:
    return technique in SPOT_TECHNIQUES
