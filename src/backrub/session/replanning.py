"""Re-planning: what is left fitted into what is left of the budget, each step fitted to the
limits in force when it starts, and the closing kept whatever happened (C1-C4).
"""

from __future__ import annotations

import contextlib

from backrub.method.step import Step
from backrub.method.vocabulary import PhaseKind
from backrub.planner.shaping import closing_elsewhere, closing_regions
from backrub.planner.timing import (
    BudgetTooLong,
    changed,
    drop_for_time,
    refit_durations,
    shortest_seconds,
)
from backrub.safety.restrictions import Restrictions
from backrub.session import balance
from backrub.session.core import EngineCore
from backrub.session.stops import PRESSING

MIDDLE = (PhaseKind.NECK, PhaseKind.UPPER_BACK, PhaseKind.LOWER_BACK)


class ReplanMixin(EngineCore):
    """Fitting the rest of the session to the time and the limits left."""

    def _remaining_budget(self) -> float:
        state = self.state
        current_left = state.current.seconds - state.elapsed if state.current else 0.0
        return self.budget - state.worked - current_left

    def _replan(self) -> None:
        """Fit what is left into what is left of the budget, keeping the closing (C1-C4)."""
        state = self.state
        if not state.queue:
            return
        owed = self._owed()
        reserve = 0.0
        if owed:
            if state.knot is None:
                # The plan will not even itself out any more: add the work now (before the
                # closing), on the regions that are owed it, while the rest can still make
                # room for it (B1).
                closing = next(
                    (i for i, s in enumerate(state.queue) if s.phase is PhaseKind.CLOSING),
                    len(state.queue),
                )
                # Within the time left: the optional steps can make way, the essential cannot.
                essential = shortest_seconds([s for s in state.queue if s.priority == 1])
                affordable = max(0.0, self._remaining_budget() - essential)
                steps = balance.even_out_steps(
                    owed, affordable, atlas=self.atlas, label=f"even-{state.even_outs + 1}"
                )
                if steps:
                    state.even_outs += 1
                    state.queue[closing:closing] = steps
                    self._react_balance(steps, "before the closing")
            else:
                reserve = sum(owed.values())
        room = max(0.0, self._remaining_budget() - reserve)
        if shortest_seconds(state.queue) > room:
            kept, dropped = drop_for_time(
                state.queue, room, lambda s: (-s.priority, -state.queue.index(s))
            )
            for step in dropped:
                state.notes.append(f"{step.id} dropped to keep to the time")
            state.queue = kept
        try:
            state.queue = refit_durations(state.queue, room)
        except BudgetTooLong:
            state.queue = [changed(s, seconds=s.max_seconds or s.seconds) for s in state.queue]

    def _fit_for_now(self, step: Step) -> Step | None:
        """The step as it may be done now: limits applied, preference offset, then the guard."""
        state = self.state
        # After a headache or nausea even the closing's feather sweep goes around the upper
        # trapezius: the receiver was told it is over there, and the summary says so (X4).
        regions = tuple(
            r
            for r in step.regions
            if r not in state.excluded
            and not (state.upper_trapezius_stopped and self._is_trapezius(r))
        )
        if step.technique.value in state.removed_techniques:
            return None
        if not regions and step.phase is PhaseKind.CLOSING and not step.path:
            moved = self._closing_elsewhere(step)
            if moved is None:
                # Nowhere left for it: this part of the closing is left out, and says why.
                state.removed_techniques.setdefault(
                    step.technique.value, "every region for it was left out"
                )
            return moved
        if not regions:
            return None
        step = changed(step, regions=regions)
        if (
            state.pressure_offset
            and step.phase in MIDDLE
            and step.technique in PRESSING
            and not step.knot
            and not step.id.startswith(("even", "knot-"))
        ):
            step = self._with_pressure(step, int(step.pressure) + state.pressure_offset)
        return self._safe(step)

    def _closing_elsewhere(self, step: Step) -> Step | None:
        """A closing step whose regions were all taken out goes where the closing still may (C1).

        The planner does the same at plan time; the closing keeps its compressions, percussion
        and sweeps in that order however the session went.
        """
        blocked = self._blocked_now()
        limits = self.context().restrictions.merged(
            Restrictions(excluded_regions=dict.fromkeys(blocked, "taken out in this session"))
        )
        moved, _ = closing_elsewhere(step, closing_regions(self.plan.steps), limits)
        if moved is None:
            return None
        self._react_text(
            "closing",
            f"{step.id} moved to {', '.join(moved.regions)}: its own regions are out",
            ("C1",),
        )
        return self._safe(moved)

    def _replan_closing(self) -> None:
        state = self.state
        fixed = sum(s.seconds for s in state.queue if s.phase is not PhaseKind.CLOSING)
        closing = [s for s in state.queue if s.phase is PhaseKind.CLOSING]
        others = [s for s in state.queue if s.phase is not PhaseKind.CLOSING]
        room = max(shortest_seconds(closing), self.budget - state.worked - fixed)
        with contextlib.suppress(BudgetTooLong):
            closing = refit_durations(closing, room)
        state.queue = [*others, *closing]
