"""Keeping the sides even live (B1): what each region is owed once the plan is done, and the
evening-out added before the closing.
"""

from __future__ import annotations

from operator import attrgetter, itemgetter

from backrub.method.step import Step
from backrub.planner.timing import changed, shortest_seconds
from backrub.session import balance
from backrub.session.core import EngineCore


class BalanceMixin(EngineCore):
    """Owed time and evening it out."""

    def _pending(self) -> list[tuple[tuple[str, ...], float]]:
        """(regions, seconds) of all the work still to come, the current step's first: its
        regions without those taken out since it was planned (see `_as_it_will_be`). Only
        the sides' totals are wanted of it, so no step is copied for them."""
        state = self.state
        blocked = self._blocked_now()
        work: list[tuple[tuple[str, ...], float]] = []
        if state.current is not None:
            # Everything of the current step not yet in the timeline, done or still to do.
            rest = state.current.seconds - state.segment_from
            work.append((_left(state.current.regions, blocked), max(0.0, rest)))
        if not blocked:
            # Both fields of each step read from its dict at once, no loop in Python.
            work += map(WORK_FIELDS, map(FIELDS, state.queue))
        else:
            work += [(_left(step.regions, blocked), step.seconds) for step in state.queue]
        return work

    def _as_it_will_be(self, step: Step) -> Step:
        """A queued step without the regions taken out since it was planned."""
        blocked = self._blocked_now()
        regions = tuple(r for r in step.regions if r not in blocked)
        if len(regions) == len(step.regions):
            return step
        return changed(step, regions=regions or step.regions[:0])

    def _owed(self) -> dict[str, float]:
        """What each region is owed by its mirror, once everything planned is done (B1)."""
        slots = balance.side_slots(self.atlas)
        totals = self._done_sides(slots)[:]
        balance.add_work_flat(totals, self._pending(), slots)
        return balance.owed_from_totals(slots.totals(totals), self.context())

    def _done_sides(self, slots: balance.SideSlots) -> list[float]:
        """Side totals of the steps done (flat, see `balance.SideSlots`), kept between calls:
        only new steps are added."""
        done = self._history()
        counted, last = self._sides_counted
        if counted > len(done) or (counted and done[counted - 1] is not last) or not counted:
            self._sides = slots.empty()
            counted = 0
        work = map(WORK_FIELDS, map(FIELDS, done[counted:]))
        balance.add_work_flat(self._sides, work, slots)
        self._sides_counted = (len(done), done[-1] if done else None)
        return self._sides

    def _even_out_before_closing(self, at: float) -> None:
        # The closing counts too: with a region left out on one side it is not symmetric.
        owed = self._owed()
        if not owed:
            return
        closing_shortest = shortest_seconds(self.state.queue)
        # Balance comes first, but never more than 1% past the budget (the rest of the 2%
        # allowance is for the closing's own rounding).
        room = self.budget * 1.01 - self.state.worked - closing_shortest
        steps = balance.even_out_steps(owed, max(0.0, room), atlas=self.atlas, label="even-closing")
        if steps:
            self.state.queue[0:0] = steps
            self._react_balance(steps, "now")
            self._say("balance", at)
            self._replan_closing()

    def _react_balance(self, steps: list[Step], when: str) -> None:
        seconds: dict[str, float] = {}
        for step in steps:
            seconds[step.regions[0]] = seconds.get(step.regions[0], 0.0) + step.seconds
        where = ", ".join(f"{value:.0f} s on {region}" for region, value in seconds.items())
        self._react_text("balance", f"evening out {when}: {where}", ("B1",))


FIELDS = attrgetter("__dict__")
WORK_FIELDS = itemgetter("regions", "seconds")


def _left(regions: tuple[str, ...], blocked: frozenset[str]) -> tuple[str, ...]:
    """The regions not taken out."""
    if not blocked:
        return regions
    return tuple(r for r in regions if r not in blocked)
