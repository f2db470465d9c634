"""Fitting step durations to the time budget: stretch or shrink within each step's bounds.

Steps on the two sides of a pair always get the same time (B1). Steps are dropped, least
important first, only when even their shortest versions do not fit.
"""

from __future__ import annotations

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
    groups = _groups(steps, weight)
    size = [len(group.indexes) for group in groups]

    def total(scale: float) -> float:
        return sum(n * group.at(scale) for n, group in zip(size, groups, strict=True))

    longest = sum(n * group.high for n, group in zip(size, groups, strict=True))
    if longest < budget:
        raise BudgetTooLong(longest)
    low, high = 0.0, 1.0
    while total(high) < budget:
        high *= 2
    for _ in range(60):
        middle = (low + high) / 2
        if total(middle) < budget:
            low = middle
        else:
            high = middle
    seconds = [float(round(group.at(high))) for group in groups]
    _settle_rounding(groups, size, seconds, budget)
    timed = list(steps)
    for group, value in zip(groups, seconds, strict=True):
        for index in group.indexes:
            timed[index] = steps[index].model_copy(update={"seconds": value})
    return timed, high


def _settle_rounding(
    groups: list[_Group], size: list[int], seconds: list[float], budget: float
) -> None:
    """Spread the rounding remainder a second at a time, singles first, then pairs."""
    order = sorted(range(len(groups)), key=lambda i: (size[i], i))
    for _ in range(len(groups) * 4):
        remainder = budget - sum(n * s for n, s in zip(size, seconds, strict=True))
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
    candidates = sorted(
        {step.pair or step.id for step in kept if step.priority > 1},
        key=lambda key: importance(next(s for s in kept if (s.pair or s.id) == key)),
    )
    for key in candidates:
        if comfortable_seconds(kept) <= budget:
            break
        dropped.extend(s for s in kept if (s.pair or s.id) == key)
        kept = [s for s in kept if (s.pair or s.id) != key]
    return kept, dropped
