"""Applying what past sessions taught (planner.history) to one plan's steps, and saying so.

The planner shapes the routine's steps several times, one lesson more each time (learned
starting pressures, then lighter where painful twice, then later where ticklish twice), so the
notes can name exactly which change came from which lesson and which sessions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from backrub.atlas import Atlas
from backrub.method.step import Step
from backrub.method.vocabulary import PhaseKind, PressureLevel
from backrub.method.words import vocabulary
from backrub.planner.history import MIDDLE, Lessons

# shape(step, sore regions, learned starting pressures) -> the step fitted to the receiver.
Shape = Callable[[Step, frozenset[str], dict[str, int] | None], Step]


@dataclass(frozen=True)
class Shaped:
    """The routine's steps shaped without history, then with each lesson added in turn."""

    before: list[Step]
    learned: list[Step]
    lighter: list[Step]
    later: list[Step]


def shape_with_lessons(
    steps: Sequence[Step], lessons: Lessons, shape: Shape, sore: frozenset[str]
) -> Shaped:
    before = [shape(step, sore, None) for step in steps]
    if not (lessons.start or lessons.painful or lessons.ticklish):
        return Shaped(before, before, before, before)
    levels = lessons.levels
    painful = frozenset(item.region for item in lessons.painful)
    learned = [shape(step, sore, levels) for step in steps]
    # Painful twice: one level lighter in the middle phases (the warm-up and the closing are
    # light already, and one region must not lighten a pass over the whole back).
    lighter = [
        shape(step, sore | painful if step.phase.value in MIDDLE else sore, levels)
        for step in steps
    ]
    later = leave_for_later(lighter, later_regions(lessons, learned, lighter))
    return Shaped(before, learned, lighter, later)


def leave_for_later(steps: Sequence[Step], regions: Iterable[str]) -> list[Step]:
    """Move the middle phases' steps on these regions (with their pair partners, so both sides
    stay together) to the end of their phase, keeping their order (L1: come back later)."""
    wanted = set(regions)
    touched = [s for s in steps if s.phase.value in MIDDLE and wanted.intersection(s.regions)]
    pairs = {s.pair for s in touched if s.pair}
    moving = {s.id for s in touched} | {
        s.id for s in steps if s.phase.value in MIDDLE and s.pair is not None and s.pair in pairs
    }
    result = [s for s in steps if s.id not in moving]
    for phase in dict.fromkeys(s.phase for s in steps if s.id in moving):
        block = [s for s in steps if s.id in moving and s.phase is phase]
        in_phase = [i for i, s in enumerate(result) if s.phase is phase]
        if in_phase:
            index = in_phase[-1] + 1
        else:  # every step of the phase moves: it stays where it was
            first = next(i for i, s in enumerate(steps) if s.phase is phase)
            index = len([s for s in steps[:first] if s.id not in moving])
        result[index:index] = block
    return result


def sessions_text(ids: Sequence[str]) -> str:
    return ("session " if len(ids) == 1 else "sessions ") + ", ".join(ids)


def history_notes(
    lessons: Lessons,
    atlas: Atlas,
    shaped: Shaped,
    *,
    final: Sequence[Step],
    problem_first: Sequence[str],
) -> list[str]:
    """One note per change history made, naming the sessions it comes from.

    `final` are the plan's steps (a change to a step the budget dropped is no change);
    `problem_first` the recurring-knot regions the plan works early."""
    before, learned, lighter, later = shaped.before, shaped.learned, shaped.lighter, shaped.later
    words = vocabulary()
    notes = []
    kept = {step.id for step in final}

    def word(level: int) -> str:
        return f"{level} ({words.pressure_word(PressureLevel(level))})"

    for region, start in lessons.start.items():
        change = _first_change(region, before, learned)
        if change is None or change[0] not in kept:
            continue
        _, old, new = change
        landed = ", ".join(f"{sid}: {level}" for sid, level in start.landings)
        where = (
            "where the pressure landed"
            if new == start.level
            else f"the closest the rules allow there to {start.level}, where the pressure landed"
        )
        notes.append(
            f"{atlas.region(region).name} starts at {word(new)}, not {word(old)}: {where} "
            f"in the receiver's band ({landed}; newest counts most)."
        )
    for item in lessons.painful:
        name = atlas.region(item.region).name
        change = _first_change(item.region, learned, lighter)
        if change is not None and change[0] in kept:
            notes.append(
                f"{name} one level lighter: painful {item.times} times before "
                f"({sessions_text(item.sessions)})."
            )
        elif change is None and _moved(item.region, lighter, later, kept):
            notes.append(
                f"{name} left for later in its area: painful {item.times} times before "
                f"({sessions_text(item.sessions)}), and already as light as it goes."
            )
    for item in lessons.ticklish:
        if _moved(item.region, lighter, later, kept):
            notes.append(
                f"{atlas.region(item.region).name} left for later in its area: ticklish "
                f"{item.times} times before ({sessions_text(item.sessions)}); it comes once the "
                "rest has relaxed (L1)."
            )
    for item in lessons.recurring_knots:
        if item.region in problem_first:
            notes.append(
                f"A knot came back on {atlas.region(item.region).name} "
                f"({sessions_text(item.sessions)}): extra work there, its area first and the "
                "work early in it (problem-first for that spot)."
            )
    return notes


def _first_change(
    region: str, old: Sequence[Step], new: Sequence[Step]
) -> tuple[str, int, int] | None:
    """The first middle step on the region whose pressure differs: its id, old and new level."""
    for a, b in zip(old, new, strict=True):
        if region in a.regions and a.phase.value in MIDDLE and a.pressure != b.pressure:
            return a.id, int(a.pressure), int(b.pressure)
    return None


def _moved(region: str, old: Sequence[Step], new: Sequence[Step], kept: set[str]) -> bool:
    """Whether the region's first step in some middle phase has a new place in that phase (and
    is still in the plan)."""
    on = [s for s in old if region in s.regions and s.phase.value in MIDDLE and s.id in kept]
    return any(
        _position(region, old, phase) != _position(region, new, phase)
        for phase in dict.fromkeys(s.phase for s in on)
    )


def _position(region: str, steps: Sequence[Step], phase: PhaseKind) -> int:
    in_phase = [s for s in steps if s.phase is phase]
    return next(i for i, s in enumerate(in_phase) if region in s.regions)


def later_regions(
    lessons: Lessons, learned: Sequence[Step], lighter: Sequence[Step]
) -> frozenset[str]:
    """Regions to leave for later: ticklish twice, or painful twice but already as light as
    their steps go (so "one level lighter" changed nothing there)."""
    stuck = {
        item.region
        for item in lessons.painful
        if _first_change(item.region, learned, lighter) is None
    }
    return frozenset(item.region for item in lessons.ticklish) | stuck
