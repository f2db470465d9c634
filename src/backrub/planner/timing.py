"""Fitting step durations to the time budget: stretch or shrink within each step's bounds.

Steps on the two sides of a pair always get the same time (B1). Steps are dropped, least
important first, only when even their shortest versions do not fit.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from backrub.method.step import Step

Weight = Callable[[Step], float]


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
    return sum(step.min_seconds for step in steps)


def comfortable_seconds(steps: Sequence[Step]) -> float:
    return sum(max(step.min_seconds, COMFORTABLE_SHARE * step.seconds) for step in steps)


def fit_durations(steps: Sequence[Step], budget: float, weight: Weight) -> tuple[list[Step], float]:
    """Steps with durations summing to the budget (to the second where bounds allow).

    Also returns the stretch applied to the nominal durations (1.0: as written).
    Raises BudgetTooLong when the budget exceeds what the steps can stretch to; the caller
    decides what to do when the shortest steps are still too long (see `drop_for_time`).
    """
    groups, size, scale = _fitted(steps, budget, weight)
    seconds = [float(round(group.at(scale))) for group in groups]
    _settle_rounding(groups, size, seconds, budget)
    timed = list(steps)
    for group, value in zip(groups, seconds, strict=True):
        for index in group.indexes:
            if steps[index].seconds != value:
                timed[index] = steps[index].model_copy(update={"seconds": value})
    return timed, scale


def stretch_needed(steps: Sequence[Step], budget: float, weight: Weight) -> float:
    """The stretch `fit_durations` would apply, without timing the steps (cheap to ask first)."""
    return _fitted(steps, budget, weight)[2]


def _fitted(
    steps: Sequence[Step], budget: float, weight: Weight
) -> tuple[list[_Group], list[int], float]:
    groups = _groups(steps, weight)
    size = [len(group.indexes) for group in groups]
    longest = sum(n * group.high for n, group in zip(size, groups, strict=True))
    if longest < budget:
        raise BudgetTooLong(longest)
    return groups, size, _stretch_for(groups, size, budget)


def _stretch_for(groups: list[_Group], size: list[int], budget: float) -> float:
    """The least stretch of the nominal durations at which the steps fill the budget.

    The total is piecewise linear in the stretch, bending where a group reaches its shortest or
    longest time; walking those bends in order finds the stretch at once (a few dozen steps)
    instead of halving an interval sixty times over every group.
    """

    def total(scale: float) -> float:
        return sum(n * group.at(scale) for n, group in zip(size, groups, strict=True))

    # Below every bend each group sits at its shortest: `fixed` seconds plus `rate` per unit.
    fixed = 0.0
    rate = 0.0
    bends: list[tuple[float, float, float]] = []  # (stretch, change of fixed, change of rate)
    for n, group in zip(size, groups, strict=True):
        pace = group.nominal * group.weight
        if pace <= 0:
            fixed += n * group.at(0.0)
            continue
        fixed += n * group.low
        bends.append((group.low / pace, -n * group.low, n * pace))
        bends.append((group.high / pace, n * group.high, -n * pace))
    bends.sort()
    scale = 0.0
    for at, fixed_change, rate_change in bends:
        if fixed + rate * at >= budget:
            break
        fixed += fixed_change
        rate += rate_change
        scale = at
    if rate > 0:
        scale = max(scale, (budget - fixed) / rate)
    return _least_reaching(total, scale, budget)


def _least_reaching(total: Callable[[float], float], near: float, budget: float) -> float:
    """The least float at which the summed total (with its own rounding) reaches the budget, as
    halving the interval finds it: never a hair short, and no stretch to spare.

    The total is nondecreasing float by float, so the search runs over the floats' bit patterns
    (in order for floats >= 0), galloping out from `near` and then halving: a few totals even
    when rounding put `near` many floats off.
    """
    bits = _bits(near)
    if total(near) >= budget:
        high, step, low = bits, 1, bits - 1
        while low >= 0 and total(_float(low)) >= budget:
            high, low, step = low, low - step * 2, step * 2
        low = max(low, -1)  # -1 stands for "below zero", where the total never reaches
    else:
        low, step, high = bits, 1, min(bits + 1, _INFINITY)
        while high < _INFINITY and total(_float(high)) < budget:
            low, high, step = high, min(high + step * 2, _INFINITY), step * 2
    while high - low > 1:
        middle = (low + high) // 2
        if total(_float(middle)) >= budget:
            high = middle
        else:
            low = middle
    return _float(high)


_INFINITY = struct.unpack("<q", struct.pack("<d", math.inf))[0]


def _bits(value: float) -> int:
    bits: int = struct.unpack("<q", struct.pack("<d", value))[0]
    return bits


def _float(bits: int) -> float:
    value: float = struct.unpack("<d", struct.pack("<q", bits))[0]
    return value


def _settle_rounding(
    groups: list[_Group], size: list[int], seconds: list[float], budget: float
) -> None:
    """Spread the rounding remainder a second at a time, singles first, then pairs."""
    order = sorted(range(len(groups)), key=lambda i: (size[i], i))
    # Whole seconds add up exactly in floats, so a running total equals summing anew each time.
    total = sum(n * s for n, s in zip(size, seconds, strict=True))
    for _ in range(len(groups) * 4):
        remainder = budget - total
        if abs(remainder) < 0.5:
            return
        step = 1.0 if remainder > 0 else -1.0
        moved = False
        for i in order:
            if size[i] > abs(remainder):
                continue
            candidate = seconds[i] + step
            if groups[i].low - 1e-9 <= candidate <= groups[i].high + 1e-9 and candidate >= 1:
                seconds[i] = candidate
                total += size[i] * step
                moved = True
                break
        if not moved:
            return


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
