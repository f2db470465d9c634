"""Fitting step durations to the time budget: stretch or shrink within each step's bounds.

Steps on the two sides of a pair always get the same time (B1). Steps are dropped, least
important first, only when even their shortest versions do not fit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter, mul

from backrub.method.step import Step
from backrub.planner.stretch import Bounds, rounded_at_stretch, settle_rounding, stretch_for
from backrub.planner.stretch import Weight as Weight  # asked for here by the planner
from backrub.planner.stretch import unweighted as unweighted

# A step's fields as functions, for reading a whole queue's column at once with `map`.
MIN_SECONDS = attrgetter("min_seconds")
PAIR = attrgetter("pair")


@dataclass
class _Group:
    """Steps timed as one: a left/right pair, or a single step."""

    indexes: list[int]
    nominal: float
    low: float
    high: float
    weight: float
    priority: int

    @property
    def fixed(self) -> bool:
        return self.low >= self.high

    def at(self, scale: float) -> float:
        return min(self.high, max(self.low, self.nominal * self.weight * scale))


class BudgetTooLong(Exception):
    """Even at their longest the steps cannot fill the budget; more rounds are needed."""

    def __init__(self, longest: float) -> None:
        super().__init__(f"longest possible {longest:.0f} s")
        self.longest = longest


def _groups(steps: Sequence[Step], weight: Weight) -> list[_Group]:
    by_pair: dict[str, list[int]] = {}
    order: list[list[int]] = []
    for index, step in enumerate(steps):
        if step.pair is None:
            order.append([index])
            continue
        if step.pair not in by_pair:
            by_pair[step.pair] = []
            order.append(by_pair[step.pair])
        by_pair[step.pair].append(index)
    groups = []
    for indexes in order:
        members = [steps[i] for i in indexes]
        first = members[0]
        high = min(s.max_seconds if s.max_seconds is not None else s.seconds for s in members)
        low = max(s.min_seconds for s in members)
        groups.append(
            _Group(
                indexes=indexes,
                nominal=first.seconds,
                low=min(low, high),
                high=high,
                weight=weight(first),
                priority=min(s.priority for s in members),
            )
        )
    return groups


# Below this share of its nominal time a step is too hurried to do well; optional steps are
# dropped before any step is squeezed further.
COMFORTABLE_SHARE = 0.7


def shortest_seconds(steps: Sequence[Step]) -> float:
    shortest: float = sum(map(MIN_SECONDS, steps))  # read by `map`: the same order, no loop
    return shortest


def comfortable_seconds(steps: Sequence[Step]) -> float:
    return sum(max(step.min_seconds, COMFORTABLE_SHARE * step.seconds) for step in steps)


def fit_durations(steps: Sequence[Step], budget: float, weight: Weight) -> tuple[list[Step], float]:
    """Steps with durations summing to the budget (to the second where bounds allow).

    Also returns the stretch applied to the nominal durations (1.0: as written); a step whose
    seconds do not change is returned as the same object.
    Raises BudgetTooLong when the budget exceeds what the steps can stretch to; the caller
    decides what to do when the shortest steps are still too long (see `drop_for_time`).
    """
    bounds, scale = _fitted(steps, budget, weight)
    return _timed(steps, bounds, [float(round(value)) for value in bounds.at(scale)], budget), scale


def refit_durations(steps: Sequence[Step], budget: float) -> list[Step]:
    """`fit_durations(steps, budget, unweighted)`'s steps, the same to the bit, without its
    stretch: re-planning asks only for the seconds, which are known as soon as the stretch is
    narrowed to floats that all round the same way (see `rounded_at_stretch`), most often
    after three sums over the steps where finding the stretch itself takes seven."""
    bounds = Bounds(steps, unweighted)
    longest = sum(map(mul, bounds.size, bounds.high))
    if longest < budget:
        raise BudgetTooLong(longest)
    seconds = rounded_at_stretch(bounds, budget)
    if seconds is None:
        scale = stretch_for(bounds, budget)
        seconds = [float(round(value)) for value in bounds.at(scale)]
    return _timed(steps, bounds, seconds, budget)


def _timed(
    steps: Sequence[Step], bounds: Bounds, seconds: list[float], budget: float
) -> list[Step]:
    """The steps with their groups' rounded `seconds`, the remainder settled."""
    settle_rounding(bounds, seconds, budget)
    if not bounds.singles:
        # Each step takes its group's seconds (a pair's halves the same).
        seconds = list(map(seconds.__getitem__, bounds.group_of))
    # One pass over the steps (a live queue is re-fitted often): only re-timed ones are copied.
    return [
        step if before == value else _retimed(step, value)
        for step, before, value in zip(steps, bounds.seconds, seconds, strict=True)
    ]


def _retimed(step: Step, seconds: float) -> Step:
    """`changed(step, seconds=seconds)` for the fit's many copies: `seconds` is a required
    field, so always among the fields given, and the set is shared as it is."""
    values = step.__dict__.copy()
    values["seconds"] = seconds
    copy = _new(Step)
    _set(copy, "__dict__", values)
    _set(copy, "__pydantic_fields_set__", step.__pydantic_fields_set__)
    _set(copy, "__pydantic_extra__", step.__pydantic_extra__)
    _set(copy, "__pydantic_private__", step.__pydantic_private__)
    return copy


def changed(step: Step, **update: object) -> Step:
    """`step` with some fields set to values already valid: what `model_copy(update=...)`
    gives (no validation either), at a third of its cost. Re-planning re-times most of a
    session's queue whenever the time left changes, so this runs a lot in a live session.
    The set of fields given is shared, as copies of frozen steps may (see `web.lean`)."""
    fields: set[str] = step.__pydantic_fields_set__
    if not fields.issuperset(update):
        fields = fields | update.keys()
    values = step.__dict__.copy()
    values.update(update)
    copy = _new(Step)
    _set(copy, "__dict__", values)
    _set(copy, "__pydantic_fields_set__", fields)
    _set(copy, "__pydantic_extra__", step.__pydantic_extra__)
    _set(copy, "__pydantic_private__", step.__pydantic_private__)
    return copy


_new = object.__new__
_set = object.__setattr__


def stretch_needed(steps: Sequence[Step], budget: float, weight: Weight) -> float:
    """The stretch `fit_durations` would apply, without timing the steps (cheap to ask first)."""
    return _fitted(steps, budget, weight)[1]


def _fitted(steps: Sequence[Step], budget: float, weight: Weight) -> tuple[Bounds, float]:
    bounds = Bounds(steps, weight)
    longest = sum(map(mul, bounds.size, bounds.high))
    if longest < budget:
        raise BudgetTooLong(longest)
    return bounds, stretch_for(bounds, budget)


def drop_for_time(
    steps: Sequence[Step], budget: float, importance: Callable[[Step], tuple[int, ...]]
) -> tuple[list[Step], list[Step]]:
    """Drop the least important step groups until the rest fit the budget without hurrying.

    Returns (kept, dropped). Priority-1 steps are never dropped; if they alone do not fit, the
    kept list is still too long and the caller reports the shortest possible session.
    """
    kept = list(steps)
    dropped: list[Step] = []
    first: dict[str, Step] = {}
    for step in kept:
        first.setdefault(step.pair or step.id, step)
    candidates = sorted(
        {step.pair or step.id for step in kept if step.priority > 1},
        key=lambda key: importance(first[key]),
    )
    for key in candidates:
        if comfortable_seconds(kept) <= budget:
            break
        dropped.extend(s for s in kept if (s.pair or s.id) == key)
        kept = [s for s in kept if (s.pair or s.id) != key]
    return kept, dropped
