"""The stretch of a fit: the steps' bounds as columns, the least stretch of the nominal durations
at which their rounded total reaches the budget, and the rounding remainder spread.

`timing.fit_durations` and `timing.refit_durations` are built on these; a live session re-fits its
whole queue whenever the time left changes (issue 12), so they read each step once and work on
plain lists.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from operator import attrgetter, itemgetter, mul

from backrub.method.step import Step

Weight = Callable[[Step], float]

# A step's fields, for reading a whole queue's column at once with `map`.
_FIELDS = attrgetter("__dict__")
_SECONDS_FIELD = itemgetter("seconds")
_MIN_FIELD = itemgetter("min_seconds")
_MAX_FIELD = itemgetter("max_seconds")
_PAIR_FIELD = itemgetter("pair")


def unweighted(_step: Step) -> float:
    """Every step stretched alike (what re-planning asks): the fit then reads no weights."""
    return 1.0


class Bounds:
    """The groups of `timing._groups` as columns (one entry per group), for the hot loops of
    fitting: a live session re-fits its whole queue whenever the time left changes."""

    def __init__(self, steps: Sequence[Step], weight: Weight) -> None:
        # A pair's bounds are those all its halves allow, its pace the first half's. Read as
        # columns first: most of a queue is single steps, which need no look-up at all.
        # Each column read from the steps' fields by `map`, no loop in Python, and each
        # step's attributes asked once (a model's attributes cost more than a dict's keys).
        fields = list(map(_FIELDS, steps))
        seconds: list[float] = list(map(_SECONDS_FIELD, fields))
        mins: list[float] = list(map(_MIN_FIELD, fields))
        highs = [
            high if high is not None else nominal
            for high, nominal in zip(map(_MAX_FIELD, fields), seconds, strict=True)
        ]
        # The steps' own seconds, to tell which the fit re-times.
        self.seconds = seconds
        # As `timing._Group.at` computes it: (nominal x weight) x stretch, the same float (a weight
        # of 1.0 leaves the nominal as it is, so none is asked for).
        paces = (
            seconds
            if weight is unweighted
            else [nominal * weight(step) for nominal, step in zip(seconds, steps, strict=True)]
        )
        pairs: list[str | None] = list(map(_PAIR_FIELD, fields))
        # The group of each step, for handing the groups' seconds back to the steps.
        self.group_of: list[int] = []
        if pairs.count(None) == len(pairs):
            self.size: list[int] = [1] * len(steps)
            self.pace: list[float] = paces
            self.low: list[float] = mins
            self.high: list[float] = highs
        elif (grouped := _pair_groups(pairs)) is not None:
            # A live queue is mostly pairs: its groups found by whole-list steps (the loop
            # below finds the same, one step at a time).
            leaders, halves, self.group_of = grouped
            pairs_of = list(zip(leaders, halves, strict=True))
            self.size = [1 if first == other else 2 for first, other in pairs_of]
            self.pace = [paces[first] for first in leaders]
            # The first half's bound unless the other's is tighter, as the loop takes them.
            self.low = [
                mins[other] if mins[other] > mins[first] else mins[first]
                for first, other in pairs_of
            ]
            self.high = [
                highs[other] if highs[other] < highs[first] else highs[first]
                for first, other in pairs_of
            ]
        else:
            self.size, self.pace, self.low, self.high = [], [], [], []
            group_of: dict[str, int] = {}
            for index, pair in enumerate(pairs):
                group = group_of.get(pair) if pair is not None else None
                if group is None:
                    group = len(self.size)
                    if pair is not None:
                        group_of[pair] = group
                    self.group_of.append(group)
                    self.size.append(1)
                    self.pace.append(paces[index])
                    self.low.append(mins[index])
                    self.high.append(highs[index])
                    continue
                self.group_of.append(group)
                self.size[group] += 1
                if highs[index] < self.high[group]:
                    self.high[group] = highs[index]
                if mins[index] > self.low[group]:
                    self.low[group] = mins[index]
        self.singles = len(self.size) == len(steps)
        # Never longer than long (`timing._groups` does the same once per group).
        self.low = [
            high if high < low else low for low, high in zip(self.low, self.high, strict=True)
        ]
        self.columns = list(zip(self.pace, self.low, self.high, strict=True))

    def at(self, scale: float) -> list[float]:
        """Each group's seconds (one step's) at this stretch: `timing._Group.at` for each."""
        # min(high, max(low, value)) as `timing._Group.at` takes it, ties and all, without the
        # calls, in one pass: above `low` the value itself is held to `high`, else `low` is.
        return [
            (value if value < high else high)
            if (value := pace * scale) > low
            else (low if low < high else high)
            for pace, low, high in self.columns
        ]

    def total(self, scale: float) -> float:
        """The seconds of all the steps at this stretch, summed in order as before."""
        return self.summed(self.at(scale))

    def summed(self, seconds: list[float]) -> float:
        """The seconds of all the steps, given their groups' (`at`), summed in order."""
        if self.singles:
            return sum(seconds)
        # n x seconds by `mul`, as `*` takes it, and summed in order: no loop in Python.
        total: float = sum(map(mul, self.size, seconds))
        return total


def _pair_groups(pairs: list[str | None]) -> tuple[list[int], list[int], list[int]] | None:
    """The groups of steps with these pairs, in the order `Bounds` numbers them: the first
    step of each group, its other half (itself when alone), and the group of every step.
    None when a pair has more than two halves (left to `Bounds`'s loop)."""
    count = len(pairs)
    # Read backwards, a pair's first step is the one seen last; forwards, its last.
    first = dict(zip(reversed(pairs), range(count - 1, -1, -1), strict=True))
    last = dict(zip(pairs, range(count), strict=True))
    first.pop(None, None)
    halves = sum([1 if last[pair] == at else 2 for pair, at in first.items()])
    if halves != count - pairs.count(None):
        return None
    leads = [at if pair is None else first[pair] for at, pair in enumerate(pairs)]
    leaders = [at for at, lead in enumerate(leads) if lead == at]
    rank = dict(zip(leaders, range(len(leaders)), strict=True))
    others = [at if pairs[at] is None else last[pairs[at]] for at in leaders]
    return leaders, others, [rank[lead] for lead in leads]


def stretch_for(bounds: Bounds, budget: float) -> float:
    """The least stretch of the nominal durations at which the steps fill the budget.

    The total is piecewise linear in the stretch; a stretch near the answer is found from where
    the total stands at the nominal durations (`_near_by_slope`), or else by walking the bends
    in order (`_near_by_bends`), and the exact float is then searched from there: the answer
    is the same whichever way it was neared, only the work differs.
    """
    near = _near_by_slope(bounds, budget)
    if near is None:
        return _least_reaching(bounds.total, _near_by_bends(bounds, budget), budget)
    return _least_reaching(bounds.total, near[0], budget, near[1])


# Close enough to hand to `_least_reaching`: a few floats off at most.
_NEAR = 1e-12


def _near_by_slope(bounds: Bounds, budget: float) -> tuple[float, float] | None:
    """A stretch near the answer and the total there, by following the total's slope from the
    nominal durations (Newton's method on a piecewise linear total); None if it does not
    settle in a few steps (a bend crossed each time), or the total has no slope there.

    A live queue was fitted before, so its nominal durations (its seconds now) nearly fill
    the time left already: usually one step, two listings of the groups, finds the answer,
    where walking the bends sorts two per group.
    """
    columns = list(zip(bounds.size, bounds.pace, bounds.low, bounds.high, strict=True))
    scale = 1.0
    for _ in range(4):
        total = bounds.total(scale)
        gap = budget - total
        # The groups that move with the stretch in the direction of the answer: with none,
        # the answer may lie far off along a flat stretch of the total (the bends know where).
        if gap > 0:
            rate = sum([n * pace for n, pace, low, high in columns if low <= pace * scale < high])
        else:
            rate = sum([n * pace for n, pace, low, high in columns if low < pace * scale <= high])
        if not rate > 0 or not scale > 0:
            return None
        if abs(gap) <= _NEAR * budget:
            return scale, total
        scale += gap / rate
    return None


# Half the width of the stretches tried around the answer, as a share of the stretch: wide
# enough to hold the answer when the slope was followed across no bend (the sums' rounding is
# a few parts in 1e15), narrow enough that few seconds round differently across it.
_BRACKET = 2.0**-33


def rounded_at_stretch(bounds: Bounds, budget: float) -> list[float] | None:
    """Each group's seconds, rounded, at the least stretch reaching the budget, without that
    stretch: found from two stretches `below` and `above` with a total short of the budget at
    `below` and reaching it at `above`, at which every group's seconds round alike.

    Why that is the answer: the total never falls as the stretch grows (each group's seconds
    do not, nor does a sum of them in order, float rounding and all), so the least stretch
    reaching the budget lies above `below` and at most at `above`; each group's rounded
    seconds never fall either, so they are the same there as at both ends. None when no such
    pair is found in a few steps (a second rounding differently within the pair, say): the
    caller then finds the stretch itself.
    """
    columns = list(zip(bounds.size, bounds.pace, bounds.low, bounds.high, strict=True))
    scale = 1.0
    total = bounds.total(scale)
    for _ in range(4):
        # Newton's step along the total's slope, as `_near_by_slope` takes it.
        gap = budget - total
        if gap > 0:
            rate = sum([n * pace for n, pace, low, high in columns if low <= pace * scale < high])
        else:
            rate = sum([n * pace for n, pace, low, high in columns if low < pace * scale <= high])
        if not rate > 0:
            return None
        guess = scale + gap / rate
        if not guess > 0:
            return None
        below, above = guess * (1.0 - _BRACKET), guess * (1.0 + _BRACKET)
        at_below = bounds.at(below)
        total_below = bounds.summed(at_below)
        if total_below >= budget:
            scale, total = below, total_below  # a bend crossed: on from there
            continue
        at_above = bounds.at(above)
        total_above = bounds.summed(at_above)
        if total_above < budget:
            scale, total = above, total_above
            continue
        rounded = list(map(round, at_above))
        if rounded != list(map(round, at_below)):
            return None
        return list(map(float, rounded))
    return None


def _near_by_bends(bounds: Bounds, budget: float) -> float:
    """A stretch near the answer, found by walking the total's bends in order: where a group
    reaches its shortest or longest time (a few dozen steps, never sixty halvings)."""
    # Below every bend each group sits at its shortest: `fixed` seconds plus `rate` per unit.
    fixed = 0.0
    rate = 0.0
    bends: list[tuple[float, float, float]] = []  # (stretch, change of fixed, change of rate)
    for n, pace, low, high in zip(bounds.size, bounds.pace, bounds.low, bounds.high, strict=True):
        if pace <= 0:
            fixed += n * min(high, max(low, pace * 0.0))
            continue
        fixed += n * low
        bends.append((low / pace, -n * low, n * pace))
        bends.append((high / pace, n * high, -n * pace))
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
    return scale


def _least_reaching(
    total: Callable[[float], float], near: float, budget: float, at_near: float | None = None
) -> float:
    """The least float at which the summed total (with its own rounding) reaches the budget, as
    halving the interval finds it: never a hair short, and no stretch to spare.

    The total is nondecreasing float by float, so the search runs over the floats' bit patterns
    (in order for floats >= 0), galloping out from `near` and then halving: a few totals even
    when rounding put `near` many floats off.
    """
    bits = _bits(near)
    if (total(near) if at_near is None else at_near) >= budget:
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


def settle_rounding(bounds: Bounds, seconds: list[float], budget: float) -> None:
    """Spread the rounding remainder a second at a time, singles first, then pairs."""
    size, low, high = bounds.size, bounds.low, bounds.high
    # Whole seconds add up exactly in floats, so a running total equals summing anew each time.
    total = bounds.summed(seconds)
    if abs(budget - total) < 0.5:
        return  # nothing to spread (the loop below would say so at once)
    # By size, then by place: the sort is stable.
    order = sorted(range(len(size)), key=size.__getitem__)
    # Each second goes to the first group in this order that can take it. A group passed
    # over once is passed over for good: the remainder only shrinks toward zero, never
    # changing sign (no group moves more than is left), and its seconds stay as they were.
    # So the search goes on from the group that took the last second, not from the start.
    first = 0
    for _ in range(len(size) * 4):
        remainder = budget - total
        if abs(remainder) < 0.5:
            return
        step = 1.0 if remainder > 0 else -1.0
        moved = False
        most = abs(remainder)
        for place in range(first, len(order)):
            i = order[place]
            if size[i] > most:
                continue
            candidate = seconds[i] + step
            if low[i] - 1e-9 <= candidate <= high[i] + 1e-9 and candidate >= 1:
                seconds[i] = candidate
                total += size[i] * step
                moved = True
                first = place
                break
        if not moved:
            return
