"""The live session engine: a Plan run as a state machine over time, reacting to feedback.

Pure: events and the passing of time in; state, cues and reactions out. No clock, no I/O.
Replaying the same events on the same plan rebuilds the same state, which is what makes the
event log enough to resume after a crash.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from backrub.atlas import Area, Atlas, Side, Tissue, default_atlas
from backrub.errors import BackrubError
from backrub.method.step import Step
from backrub.method.vocabulary import (
    Contact,
    PhaseKind,
    PressureLevel,
    StepSide,
    Technique,
)
from backrub.method.wording import reworded
from backrub.method.words import contact_info
from backrub.planner import Plan, PlanStatus
from backrub.planner.shaping import closing_elsewhere, closing_regions
from backrub.planner.timing import BudgetTooLong, drop_for_time, fit_durations, shortest_seconds
from backrub.safety import SafetyContext, judge_step
from backrub.safety.restrictions import Restrictions
from backrub.safety.rules import UPPER_TRAPEZIUS
from backrub.session import balance, ladder
from backrub.session.cues import AFTERCARE_NOT_RELEASED, CueBook
from backrub.session.events import Event, EventKind
from backrub.session.machine import ALLOWED, TRANSITIONS, handler_name
from backrub.session.navigation import NavigationMixin
from backrub.session.state import (
    Cue,
    KnotRecord,
    KnotWork,
    Reaction,
    Segment,
    SessionState,
    SessionStatus,
)

CHECK_IN_EVERY = 30.0
WATER_FIRST = 15 * 60.0
WATER_EVERY = 20 * 60.0
MUST_DO_SECONDS = 5.0
RELAXING_BAND = (3, 5)
KNOT_BAND = (6, 7)
TOO_MUCH = 8
MIDDLE = (PhaseKind.NECK, PhaseKind.UPPER_BACK, PhaseKind.LOWER_BACK)
_PRESSING = (
    Technique.KNEADING,
    Technique.CIRCLES,
    Technique.STATIC_PRESSURE,
    Technique.PALM_COMPRESSION,
)
_STRONGER = {
    Contact.PALMS: Contact.HEEL_OF_HAND,
    Contact.FINGERTIPS: Contact.KNUCKLES,
    Contact.THUMBS: Contact.KNUCKLES,
}
_SOFTER = {
    Contact.HEEL_OF_HAND: Contact.PALMS,
    Contact.KNUCKLES: Contact.PALMS,
    Contact.FOREARM: Contact.PALMS,
}


class SessionOver(BackrubError):
    """An event for a session that has finished or was stopped: refused, nothing changes."""


class SessionEngine(NavigationMixin):
    """Runs one plan. `apply` an event, `advance` the clock, read `view()` and `state`."""

    def __init__(self, plan: Plan, *, atlas: Atlas | None = None) -> None:
        if plan.status is not PlanStatus.READY or not plan.steps:
            raise BackrubError("this plan has no steps to guide (screening refused it)")
        self.plan = plan
        self.atlas = atlas or default_atlas()
        self.book = CueBook(plan.routine_id)
        self.budget = float(plan.budget_seconds)
        self.state = SessionState(queue=list(plan.steps))
        self._new: list[Cue] = []
        self._say("setting", 0.0)
        self._start_next(0.0)

    @classmethod
    def replay(
        cls, plan: Plan, events: Iterable[Event], *, atlas: Atlas | None = None
    ) -> SessionEngine:
        engine = cls(plan, atlas=atlas)
        for event in events:
            engine.apply(event)
        return engine

    # ------------------------------------------------------------------ public

    @property
    def status(self) -> SessionStatus:
        return self.state.status

    def check(self, event: Event) -> None:
        """Raise if the event cannot be taken (so a front end refuses it before logging it)."""
        if self.state.status.is_over:
            raise SessionOver(f"the session is {self.state.status.value}; no more events")
        if event.at < self.state.clock - 1e-9:
            raise BackrubError(
                f"event at {event.at:g} s is before the last one ({self.state.clock:g} s)"
            )
        if event.region is not None:
            self.atlas.region(event.region)

    def apply(self, event: Event) -> list[Cue]:
        """Take one event: time passes up to it, then the engine reacts. Returns new cues."""
        self.check(event)
        self._new = []
        self._advance(event.at)
        if self.state.status.is_over:
            return self._new
        status = self.state.status
        if event.kind not in ALLOWED.get(status, frozenset()):
            self._react(event, f"{event.kind.value} ignored while {status.value}", ())
            return self._new
        self.state.status = TRANSITIONS.get((status, event.kind), status)
        getattr(self, handler_name(event.kind))(event)
        return self._new

    def advance(self, at: float) -> list[Cue]:
        """Let time pass with no event (a display refresh). Deterministic: not an event."""
        self._new = []
        if not self.state.status.is_over and at > self.state.clock:
            self._advance(at)
        return self._new

    def context(self) -> SafetyContext:
        """The limits in force now: screening, plus what the session itself took out."""
        session = Restrictions(
            excluded_regions=dict(self.state.excluded),
            removed_techniques={
                Technique(t): why for t, why in self.state.removed_techniques.items()
            },
        )
        return SafetyContext(
            atlas=self.atlas,
            restrictions=self.plan.restrictions.merged(session),
            upper_trapezius_stopped=self.state.upper_trapezius_stopped,
            balance_tolerance=0.10,
            require_closing=self.state.status is not SessionStatus.STOPPED,
        )

    @property
    def done_steps(self) -> list[Step]:
        return [segment.step for segment in self.state.timeline]

    # ------------------------------------------------------------------ time

    def _advance(self, at: float) -> None:
        state = self.state
        if state.status is SessionStatus.RUNNING:
            available = at - state.clock
            while available > 1e-9 and state.current is not None:
                left = state.current.seconds - state.elapsed
                # Stop at every cue deadline too, so cues come at the same work-clock times
                # however the time is chopped (a replay says exactly what the live guide said).
                step = min(left, available, self._next_cue_in())
                state.elapsed += step
                state.worked += step
                available -= step
                wall = at - available
                state.clock = wall
                self._periodic_cues(wall)
                if state.elapsed >= state.current.seconds - 1e-9:
                    self._complete_current(wall)
        if not state.status.is_over:
            # A session that finished meanwhile keeps its clock at the moment it ended.
            state.clock = max(state.clock, at)

    def _next_cue_in(self) -> float:
        state = self.state
        waits = [float("inf")]
        current = state.current
        if current is not None and current.check_in and self._on_trapezius(current):
            waits.append(state.last_check_in + CHECK_IN_EVERY - state.worked)
        if self.budget >= 30 * 60:
            said = sum(1 for key in state.care_said if key.startswith("water-"))
            waits.append(WATER_FIRST + said * WATER_EVERY - state.worked)
        return max(1e-6, min(waits))

    def _periodic_cues(self, at: float) -> None:
        state = self.state
        current = state.current
        if (
            current is not None
            and current.check_in
            and self._on_trapezius(current)
            and (state.worked - state.last_check_in >= CHECK_IN_EVERY - 1e-6)
        ):
            state.last_check_in = state.worked
            self._say("check-in", at)
        if self.budget >= 30 * 60 and state.worked >= WATER_FIRST - 1e-6:
            number = int((state.worked - WATER_FIRST + 1e-6) // WATER_EVERY)
            if f"water-{number}" not in state.care_said:
                state.care_said.add(f"water-{number}")
                self._say("water", at)

    # ------------------------------------------------------------------ steps

    def _record_segment(self) -> None:
        state = self.state
        if state.current is None:
            return
        seconds = state.elapsed - state.segment_from
        if seconds > 1e-6:
            done = state.current.model_copy(update={"seconds": round(seconds, 3)})
            state.timeline.append(Segment(step=done, start=state.worked - seconds))
        state.segment_from = state.elapsed

    def _complete_current(self, at: float) -> None:
        state = self.state
        current = state.current
        assert current is not None
        self._record_segment()
        if state.knot is not None and current.id.startswith(f"knot-{state.knot.number}."):
            self._knot_step_done(at, current)
            return
        self._fix_partner(current, state.elapsed)
        state.current = None
        self._start_next(at)

    def _fix_partner(self, step: Step, done: float) -> None:
        """The other half of a left/right pair gets exactly the time this half got (B1)."""
        if step.pair is None:
            return
        for index, queued in enumerate(self.state.queue):
            if queued.pair == step.pair:
                seconds = round(done, 3)
                # Bound to a half already under way: dropping it would unbalance the pair.
                self.state.queue[index] = queued.model_copy(
                    update={
                        "seconds": seconds,
                        "min_seconds": seconds,
                        "max_seconds": seconds,
                        "priority": 1,
                    }
                )

    def _start_next(self, at: float) -> None:
        state = self.state
        while state.queue:
            upcoming = state.queue[0].phase
            # A knot noted in the warm-up comes up once it is over: before the closing at the
            # latest, and before the closing's balancing so its other side is evened out too.
            if (
                state.deferred_knots
                and state.knot is None
                and upcoming is not PhaseKind.OPENING
                and not (upcoming is PhaseKind.CLOSING and state.balanced)
            ):
                region_id = state.deferred_knots.pop(0)
                self._start_knot(region_id, at, found_at=state.deferred_at.pop(region_id, at))
                if state.current is not None or state.status.is_over:
                    self._replan()
                    return
                continue
            if state.queue[0].phase is PhaseKind.CLOSING and not state.balanced:
                state.balanced = True
                self._even_out_before_closing(at)
                continue
            if state.queue[0].knot and state.knot is None:
                self._start_planned_knot(state.queue.pop(0), at)
                return
            step = self._fit_for_now(state.queue.pop(0))
            if step is None:
                continue
            state.current = step
            state.elapsed = 0.0
            state.segment_from = 0.0
            state.last_check_in = state.worked
            # Its other half is now bound to this one's time, whatever re-planning does (B1).
            self._fix_partner(step, step.seconds)
            self._announce(step, at)
            return
        state.current = None
        self._finish(at)

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
        step = step.model_copy(update={"regions": regions})
        if (
            state.pressure_offset
            and step.phase in MIDDLE
            and step.technique in _PRESSING
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
        blocked = self._blocked_regions()
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

    def _safe(self, step: Step) -> Step | None:
        """The step, or the nearest gentler version of it that keeps every rule; None if none."""
        context = self.context()
        history = self.done_steps
        candidates = [step]
        for pressure in range(int(step.pressure) - 1, 0, -1):
            candidates.append(self._with_pressure(step, pressure))
        if step.technique in _PRESSING and not step.knot:
            candidates.append(
                reworded(
                    step.model_copy(
                        update={"contact": Contact.PALMS, "pressure": PressureLevel.LIGHT}
                    ),
                    step,
                )
            )
        for candidate in candidates:
            if not judge_step(candidate, context, history=history):
                return candidate
        self._react_text("safety", f"skipped {step.id}: it would break a rule now", ("X5",))
        self._say("safety-skip", self.state.clock)
        return None

    def _with_pressure(self, step: Step, wanted: int) -> Step:
        wanted = max(1, min(5, wanted))
        contact = step.contact
        on_neck = any(self.atlas.region(r).area is Area.NECK for r in step.regions)
        if step.technique in _PRESSING and not on_neck and step.side is not StepSide.BOTH:
            while wanted > contact_info(contact).max and contact in _STRONGER:
                contact = _STRONGER[contact]
            while wanted < contact_info(contact).min and contact in _SOFTER:
                contact = _SOFTER[contact]
        pressure = contact_info(contact).clamp(wanted)
        # A new contact gets its own words: the old cue would tell the giver to use the old one.
        return reworded(step.model_copy(update={"pressure": pressure, "contact": contact}), step)

    def _announce(self, step: Step, at: float) -> None:
        state = self.state
        self._new.append(Cue(key="step", text=step.cue, method_ids=step.method_ids, at=at))
        state.cues.append(self._new[-1])
        if step.phase is PhaseKind.NECK and "neck-support" not in state.care_said:
            state.care_said.add("neck-support")
            self._say("neck-support", at)
        if step.id in state.returned:
            self._say("tickle-return", at)
        if step.check_in and self._on_trapezius(step):
            self._say("check-in", at)
        self._body_mechanics(step, at)

    def _body_mechanics(self, step: Step, at: float) -> None:
        if step.pressure >= PressureLevel.FIRM and f"g1-{step.id}" not in self.state.care_said:
            self.state.care_said.add(f"g1-{step.id}")
            self._say("body-mechanics", at)

    def _change_current(self, step: Step, at: float) -> bool:
        """Switch the current step to a new version (pressure, contact) if the rules allow it."""
        state = self.state
        if state.current is None:
            return False
        # The history includes what has been done of the current step so far.
        history = self.done_steps
        so_far = state.elapsed - state.segment_from
        if so_far > 1e-6:
            history = [*history, state.current.model_copy(update={"seconds": so_far})]
        rest = step.model_copy(update={"seconds": max(0.0, step.seconds - state.elapsed)})
        if judge_step(rest, self.context(), history=history):
            self._say("at-limit", at)
            return False
        self._record_segment()
        state.current = step
        self._body_mechanics(step, at)
        return True

    def _end_current(self, at: float, *, requeue: Step | None = None) -> None:
        """Stop the current step now; optionally put its remainder back in the queue."""
        state = self.state
        current = state.current
        if current is None:
            return
        self._record_segment()
        # A remainder done later still counts for this half: the other half keeps its time.
        self._fix_partner(current, current.seconds if requeue is not None else state.elapsed)
        if current.phase is PhaseKind.CLOSING and state.elapsed < MUST_DO_SECONDS:
            # Cut off before it was really done: this part of the closing is left out.
            state.removed_techniques.setdefault(current.technique.value, "stopped by the receiver")
        if (
            requeue is None
            and balance.is_even_out(current)
            and current.seconds - state.elapsed >= 1
        ):
            # The receiver does not want more there: that region is left for the session
            # rather than evened out again and again (B1 judges no pair with a side left out).
            region = current.regions[0]
            if region not in self._blocked_regions():
                state.excluded[region] = balance.CUT_SHORT
                state.excluded_at[region] = state.worked
        state.current = None
        if requeue is not None:
            state.queue.insert(self._later_in_phase(requeue.phase), requeue)

    @staticmethod
    def _rest_of(step: Step, seconds: float) -> Step:
        """The rest of a step, done later: all of it, since its other half keeps the full time
        (B1); dropped or shortened, it would leave the pair uneven."""
        return step.model_copy(
            update={
                "seconds": seconds,
                "min_seconds": seconds,
                "max_seconds": seconds,
                "pair": None,
                "priority": 1 if step.pair is not None else step.priority,
            }
        )

    def _later_in_phase(self, phase: PhaseKind) -> int:
        """Where a postponed step goes: after the rest of its phase, before the next phase."""
        queue = self.state.queue
        same = [i for i, s in enumerate(queue) if s.phase is phase]
        if same:
            return same[-1] + 1
        return 1 if queue and queue[0].phase is not PhaseKind.CLOSING else 0

    def _finish(self, at: float) -> None:
        state = self.state
        if state.status.is_over:
            return
        state.status = SessionStatus.FINISHED
        self._knots_not_reached()
        self._say("finished", at)
        self._say("cold-water", at)
        self._say("swap-roles", at)

    # ------------------------------------------------------------------ budget and balance

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
            state.queue, _ = fit_durations(state.queue, room, lambda _step: 1.0)
        except BudgetTooLong:
            state.queue = [
                s.model_copy(update={"seconds": s.max_seconds or s.seconds}) for s in state.queue
            ]

    def _pending(self) -> list[Step]:
        state = self.state
        pending = list(state.queue)
        if state.current is not None:
            # Everything of the current step not yet in the timeline, done or still to do.
            rest = state.current.seconds - state.segment_from
            pending.insert(0, state.current.model_copy(update={"seconds": max(0.0, rest)}))
        return [self._as_it_will_be(step) for step in pending]

    def _as_it_will_be(self, step: Step) -> Step:
        """A queued step without the regions taken out since it was planned."""
        blocked = self._blocked_regions()
        regions = tuple(r for r in step.regions if r not in blocked)
        return step.model_copy(update={"regions": regions or step.regions[:0]})

    def _owed(self) -> dict[str, float]:
        """What each region is owed by its mirror, once everything planned is done (B1)."""
        return balance.owed_by_region([*self.done_steps, *self._pending()], self.context())

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

    def _replan_closing(self) -> None:
        state = self.state
        fixed = sum(s.seconds for s in state.queue if s.phase is not PhaseKind.CLOSING)
        closing = [s for s in state.queue if s.phase is PhaseKind.CLOSING]
        others = [s for s in state.queue if s.phase is not PhaseKind.CLOSING]
        room = max(shortest_seconds(closing), self.budget - state.worked - fixed)
        with contextlib.suppress(BudgetTooLong):
            closing, _ = fit_durations(closing, room, lambda _step: 1.0)
        state.queue = [*others, *closing]

    def _blocked_regions(self) -> set[str]:
        blocked = set(self.state.excluded) | set(self.plan.restrictions.excluded_regions)
        if self.state.upper_trapezius_stopped:
            blocked |= {r.id for r in self.atlas.regions if r.base == UPPER_TRAPEZIUS}
        return blocked

    # ------------------------------------------------------------------ knots

    def _knot_fit(self, region_id: str) -> bool:
        region = self.atlas.region(region_id)
        limits = self.context().restrictions
        deepest = max(r.pressure for r in self.book.ladder.rung if not r.needs_consent)
        return (
            region.base in self.book.ladder.regions
            and (limits.max_pressure is None or limits.max_pressure >= deepest)
            and region_id not in self._blocked_regions()
        )

    def _start_planned_knot(self, first: Step, at: float) -> None:
        """A knot ladder the planner put on a trouble spot runs live, like a reported knot.

        The planned rungs, aftercare and evening-out were placeholders for its time; the live
        ladder replaces them and answers still-tight, released and the elbow as they come.
        """
        state = self.state
        region_id = first.regions[0]
        mirror = self.atlas.mirror_of(region_id)
        placeholders = (f"knot.{region_id}.", f"even.{mirror.id}" if mirror else "\0")
        state.queue = [s for s in state.queue if not s.id.startswith(placeholders)]
        planned_seconds = (
            sum(
                step.seconds
                for step in [first, *self.plan.steps]
                if step.knot and step.regions == first.regions and step.id.startswith("knot.")
            )
            - first.seconds
        )
        self._start_knot(region_id, at, planned_limit=planned_seconds)
        self._replan()
        if state.current is None and not state.status.is_over:
            self._start_next(at)

    def _start_knot(
        self,
        region_id: str,
        at: float,
        *,
        planned_limit: float | None = None,
        found_at: float | None = None,
    ) -> None:
        state = self.state
        found = at if found_at is None else found_at
        region = self.atlas.region(region_id)
        ladder_spec = self.book.ladder
        state.knot_count += 1
        gentle = not self._knot_fit(region_id)
        # Whatever a knot on one side takes, the other side gets as well (B1); and what the
        # sides already owe each other is spoken for.
        sides = 1 if region.side is Side.MIDLINE else 2
        owed = sum(self._owed().values())
        slack = (
            self._remaining_budget()
            - owed
            - shortest_seconds([s for s in state.queue if s.priority == 1])
        )
        # The ladder gets what time allows, up to its bound; a planned one, what was planned.
        room = slack / sides - ladder_spec.aftercare.seconds
        bound = float(ladder_spec.limit_seconds) if planned_limit is None else planned_limit
        if planned_limit is None:
            bound = min(bound, room)
        # Worth starting with time for its first rung (U6): optional steps make way for it.
        least = ladder.GENTLE_KNOT_SECONDS if gentle else float(ladder_spec.rung[0].seconds)
        if planned_limit is None and bound < least:
            state.knots.append(
                KnotRecord(region=region_id, found_at=found, outcome="noted", seconds=0.0)
            )
            state.notes.append(f"knot on {region_id}: no time left in this session")
            self._react_text("knot", f"no time for the knot on {region_id}; noted", ("U8",))
            self._say("no-time-knot", at)
            return
        resume = None
        if state.current is not None:
            left = state.current.seconds - state.elapsed
            if left >= 1:
                resume = self._rest_of(state.current, left)
            self._record_segment()
            # The rest is done after the knot, so the other half keeps the full time.
            self._fix_partner(state.current, state.current.seconds)
        state.knot = KnotWork(
            region=region_id,
            number=state.knot_count,
            found_at=found,
            limit=max(bound, 1.0),
            gentle=gentle,
            resume=resume,
        )
        if gentle:
            pressure = PressureLevel.LIGHT if region.area is Area.NECK else PressureLevel.MODERATE
            first = self._safe(
                ladder.gentle_knot_step(region, knot_number=state.knot_count, pressure=pressure)
            )
            self._react_text("knot", f"gentle circles for the knot on {region_id}", ("X3", "U5"))
            self._say("gentle-knot", at)
        else:
            first = self._rung(0)
            self._react_text(
                "knot", f"knot ladder on {region_id}: heel of hand first", ("U5", "U6")
            )
            self._say("knot-found", at)
        if first is None:
            self._close_knot(at, "interrupted")
            return
        self._begin(first, at)

    def _rung(self, rung: int) -> Step | None:
        knot = self.state.knot
        assert knot is not None
        spec = self.book.ladder
        seconds = ladder.rung_seconds(spec, rung, left=knot.limit - knot.seconds)
        step = ladder.rung_step(
            spec,
            rung,
            region=self.atlas.region(knot.region),
            knot_number=knot.number,
            seconds=seconds,
            consent=knot.elbow_accepted,
        )
        knot.rung = rung
        return self._safe(step) if seconds >= 1 else None

    def _begin(self, step: Step, at: float) -> None:
        state = self.state
        state.current = step
        state.elapsed = 0.0
        state.segment_from = 0.0
        self._announce(step, at)

    def _leave_rung(self) -> None:
        """Stop the current ladder step, counting its time toward the knot's bound (U8)."""
        state = self.state
        knot = state.knot
        assert knot is not None
        if state.current is not None:
            self._record_segment()
            if state.current.knot:
                knot.seconds += state.elapsed
            state.current = None

    def _knot_step_done(self, at: float, step: Step) -> None:
        """A ladder step ran its time: climb, ask about the elbow, or finish with aftercare."""
        knot = self.state.knot
        assert knot is not None
        self._leave_rung()
        if step.technique is Technique.MILD_RUBBING:
            self._close_knot(at, None)
        elif knot.gentle:
            self._aftercare(at, "gentle")
        elif knot.seconds >= knot.limit - 1e-6:
            full = knot.limit >= self.book.ladder.limit_seconds - 1
            bound = "two minutes" if full else f"{knot.seconds:.0f} s, all the time there was,"
            self._react_text("bound", f"{bound} on the knot at {knot.region}", ("U8",))
            self._say("knot-bound", at)
            self._aftercare(at, "bounded")
        else:
            self._climb(at, cause="rung-time")

    def _knot_seconds_now(self) -> float:
        state = self.state
        knot = state.knot
        assert knot is not None
        current = state.current
        running = state.elapsed if current is not None and current.knot else 0.0
        return knot.seconds + running

    def _climb(self, at: float, *, cause: str = "still-tight") -> None:
        """One rung up the ladder; the elbow only once the receiver has said yes (U6, U7)."""
        knot = self.state.knot
        assert knot is not None
        self._leave_rung()
        spec = self.book.ladder
        following = knot.rung + 1
        if following >= len(spec.rung):
            self._say("knot-bound", at)
            self._aftercare(at, "bounded")
            return
        if spec.rung[following].needs_consent and not knot.elbow_accepted:
            if not knot.elbow_declined and not knot.asked_elbow:
                knot.asked_elbow = True
                self._say("elbow-ask", at)
                self._react_text(cause, "asking before the elbow", ("U6", "U7"))
            next_step = self._rung(knot.rung)
        else:
            next_step = self._rung(following)
            if next_step is not None:
                self._react_text(cause, f"up to {next_step.contact.value}", ("U6",))
                self._say("knot-next-rung", at)
        if next_step is None:
            self._aftercare(at, "bounded")
            return
        self._begin(next_step, at)

    def _aftercare(self, at: float, outcome: str) -> None:
        state = self.state
        knot = state.knot
        assert knot is not None
        self._leave_rung()
        region = self.atlas.region(knot.region)
        self._record_knot(outcome, knot.seconds)
        if knot.aftercare_given:
            # Once per knot, whatever is pressed: a second would make aftercare unbounded (U9).
            self._close_knot(at, None)
            return
        knot.aftercare_given = True
        rubbing = ladder.aftercare_step(self.book.ladder, region=region, knot_number=knot.number)
        if outcome != "released":
            rubbing = rubbing.model_copy(update={"cue": AFTERCARE_NOT_RELEASED})
        step = self._safe(rubbing)
        if step is None:
            self._close_knot(at, None)
            return
        self._react_text("aftercare", f"mild rubbing on {knot.region}", ("U9",))
        self._begin(step, at)

    def _record_knot(self, outcome: str, seconds: float) -> None:
        """The knot's outcome for the summary, once per knot (aftercare may still be cut off)."""
        knot = self.state.knot
        assert knot is not None
        if knot.recorded:
            return
        knot.recorded = True
        self.state.knots.append(
            KnotRecord(
                region=knot.region,
                found_at=knot.found_at,
                outcome=outcome,
                seconds=round(seconds, 1),
            )
        )

    def _drop_knot(self, outcome: str) -> None:
        """Knot work cut off (pain, headache, stop): recorded, and the plan picks up again."""
        state = self.state
        knot = state.knot
        assert knot is not None
        seconds = self._knot_seconds_now()
        self._leave_rung()
        self._record_knot(outcome, seconds)
        if knot.resume is not None:
            state.queue.insert(0, knot.resume)
        state.knot = None

    def _knots_not_reached(self) -> None:
        """Knots noted in the warm-up that the session ended before: kept, with that outcome."""
        state = self.state
        for region_id in state.deferred_knots:
            found = state.deferred_at.get(region_id, state.clock)
            state.knots.append(
                KnotRecord(region=region_id, found_at=found, outcome="not reached", seconds=0.0)
            )
        state.deferred_knots.clear()
        state.deferred_at.clear()

    def _close_knot(self, at: float, outcome: str | None) -> None:
        """Knot work is over: even out the other side, resume the plan, re-plan the rest."""
        state = self.state
        knot = state.knot
        assert knot is not None
        self._leave_rung()
        if outcome is None and not knot.recorded:
            # Cut short before any outcome (a skip during gentle circles): still on record.
            outcome = "gentle" if knot.gentle else "interrupted"
        if outcome is not None:
            self._record_knot(outcome, knot.seconds)
        # The other side gets the same time through re-planning's evening out (B1), which also
        # sees a knot planned on that side and so does not count the time twice.
        if knot.elbow_declined:
            state.notes.append(f"knot on {knot.region}: elbow declined, for next time")
            self._say("knot-next-time", at)
        if knot.resume is not None:
            state.queue.insert(0, knot.resume)
        state.knot = None
        self._replan()
        self._start_next(at)

    # ------------------------------------------------------------------ reactions

    def _react(self, event: Event, what: str, ids: tuple[str, ...]) -> None:
        self.state.reactions.append(
            Reaction(at=event.at, event=event.kind.value, what=what, method_ids=ids)
        )

    def _react_text(self, event: str, what: str, ids: tuple[str, ...]) -> None:
        self.state.reactions.append(
            Reaction(at=self.state.clock, event=event, what=what, method_ids=ids)
        )

    def _say(self, key: str, at: float) -> None:
        cue = self.book.cue(key, at)
        self._new.append(cue)
        self.state.cues.append(cue)

    def _is_trapezius(self, region_id: str) -> bool:
        return self.atlas.region(region_id).base == UPPER_TRAPEZIUS

    def _on_trapezius(self, step: Step) -> bool:
        return any(self._is_trapezius(r) for r in step.regions)

    @staticmethod
    def _is_feather_sweep(step: Step) -> bool:
        return step.technique is Technique.SWEEP and step.pressure <= PressureLevel.FEATHER

    def _adjust(self, event: Event, delta: int, ids: tuple[str, ...], cue: str) -> bool:
        """Pressure up or down by `delta` levels on the current step; False when it cannot."""
        state = self.state
        current = state.current
        if current is None:
            return False
        wanted = int(current.pressure) + delta
        if state.knot is not None and current.knot:
            info = contact_info(current.contact)
            candidate = current.model_copy(update={"pressure": info.clamp(wanted)})
        else:
            candidate = self._with_pressure(current, wanted)
        if candidate.pressure == current.pressure and candidate.contact == current.contact:
            return False
        if not self._change_current(candidate, event.at):
            return False
        word = "firmer" if delta > 0 else "lighter"
        self._react(
            event, f"{word}: pressure {int(candidate.pressure)} with {candidate.contact.value}", ids
        )
        self._say(cue, event.at)
        return True

    def _shift_offset(self, delta: int) -> None:
        self.state.pressure_offset = max(-2, min(2, self.state.pressure_offset + delta))

    def _aftercare_now(self) -> bool:
        """The current step is a knot's aftercare."""
        knot, current = self.state.knot, self.state.current
        return (
            knot is not None
            and current is not None
            and not current.knot
            and current.id.startswith(f"knot-{knot.number}.")
        )

    def _in_aftercare(self, event: Event) -> bool:
        current = self.state.current
        if current is not None and current.technique is Technique.MILD_RUBBING:
            self._react(event, "aftercare stays light", ("U9",))
            return True
        return False

    def on_more(self, event: Event) -> None:
        state = self.state
        if self._in_aftercare(event):
            return
        if not self._adjust(event, +1, ("U4",), "more"):
            if state.knot is not None and state.current is not None and state.current.knot:
                self._climb(event.at, cause="more")
                return
            self._react(event, "no firmer here", ("U4",))
            if not any(c.key == "at-limit" for c in self._new):
                self._say("at-limit", event.at)
            return
        if state.knot is None:
            self._shift_offset(+1)

    def on_less(self, event: Event) -> None:
        if self._in_aftercare(event):
            return
        if not self._adjust(event, -1, ("U4",), "less"):
            self._react(event, "already as light as this goes", ("U4",))
        if self.state.knot is None:
            self._shift_offset(-1)

    def on_felt(self, event: Event) -> None:
        state = self.state
        value = event.value if event.value is not None else 0
        current = state.current
        low, high = KNOT_BAND if current is not None and current.knot else RELAXING_BAND
        if value >= TOO_MUCH:
            self._say("too-much", event.at)
            self._adjust(event, -1, ("U4",), "less")
            self._shift_offset(-1)
        elif value < low:
            self.on_more(event)
        elif value > high:
            self.on_less(event)
        else:
            self._react(event, f"felt {value}: in the band {low}-{high}", ("U4",))
            self._say("just-right", event.at)

    def on_ticklish(self, event: Event) -> None:
        state = self.state
        current = state.current
        if current is None:
            return
        if self._aftercare_now():
            # Aftercare stays mild (U9): a tickle ends it rather than making it firmer.
            self._react(event, "ticklish in the aftercare: it stays light; moving on", ("U9", "L1"))
            self._say("tickle-move-on", event.at)
            self._close_knot(event.at, None)
            return
        key = f"{current.phase.value}:{','.join(current.regions)}"
        state.tickles[key] = state.tickles.get(key, 0) + 1
        if (
            state.tickles[key] == 1
            and current.id not in state.returned
            and self._adjust(event, +1, ("L1",), "tickle-more")
        ):
            return
        self._move_on_from_tickle(event)

    def _move_on_from_tickle(self, event: Event) -> None:
        state = self.state
        current = state.current
        assert current is not None
        left = current.seconds - state.elapsed
        closing = current.phase is PhaseKind.CLOSING
        # "Later" must come after something else: with nothing between, it would come back at
        # once, and the move (or a skip) would do nothing the giver could see. Steps that can
        # no longer be done (their regions all left out) are not something between.
        state.queue = [
            s
            for s in state.queue
            if s.phase is PhaseKind.CLOSING
            or (
                self._as_it_will_be(s).regions and s.technique.value not in state.removed_techniques
            )
        ]
        queue = state.queue
        nothing_between = not any(s.phase is current.phase for s in queue) and (
            not queue or queue[0].phase is PhaseKind.CLOSING
        )
        if (
            current.id in state.returned
            or left < 1
            or state.knot is not None
            or closing
            or nothing_between
        ):
            self._react(event, f"moved on from {current.id}", ("L1",))
            self._say("tickle-move-on", event.at)
            if state.knot is not None:
                self._aftercare(event.at, "interrupted")
                return
            self._end_current(event.at)
        else:
            later = self._rest_of(current, left)
            state.returned.add(later.id)
            self._react(event, f"moved on; back to {current.id} later in this phase", ("L1",))
            self._say("tickle-move-on", event.at)
            self._end_current(event.at, requeue=later)
        self._replan()
        self._start_next(event.at)

    def on_pain(self, event: Event) -> None:
        state = self.state
        current = state.current
        if current is None:
            return
        # Where it hurts: the spot tapped, else every region the step works.
        spots = (event.region,) if event.region is not None else current.regions
        for spot in spots:
            state.pains[spot] = state.pains.get(spot, 0) + 1
        lighter = self._ease_rest_for_pain()
        if all(state.pains[spot] == 1 for spot in spots):
            if self._adjust(event, -2, ("U4", "X1"), "pain-less"):
                self._react(event, lighter, ("U4",))
                return
            self._react(event, "pain at the lightest pressure: leaving the spot", ("U4",))
            for spot in spots:
                state.pains[spot] = 2
        left = [spot for spot in spots if state.pains[spot] >= 2]
        self._react(
            event,
            f"pain again: {', '.join(left)} left out for this session; {lighter}",
            ("U4", "X1"),
        )
        self._say("pain-leave", event.at)
        for spot in left:
            state.excluded[spot] = "pain reported twice in this session"
            state.excluded_at[spot] = state.worked
        if not set(left) & set(current.regions):
            # Tapped somewhere not worked now: the current step goes on; the rest avoids it.
            self._replan()
            return
        if state.knot is not None:
            self._drop_knot("interrupted")
        else:
            self._end_current(event.at)
        self._replan()
        self._start_next(event.at)

    def _ease_rest_for_pain(self) -> str:
        """The rest of the session one level lighter for pain, once in all (U4)."""
        if self.state.pain_eased:
            return "the rest of the session stays one level lighter (once for pain, not more)"
        self.state.pain_eased = True
        self._shift_offset(-1)
        return "the rest of the session one level lighter"

    def _headache_or_nausea(self, event: Event) -> None:
        state = self.state
        current = state.current
        if (
            current is not None
            and self._on_trapezius(current)
            and not self._is_feather_sweep(current)
        ):
            state.upper_trapezius_stopped = True
            state.trapezius_stopped_at = state.worked
            self._react(event, "upper-trapezius work stopped for the session", ("X4", "U4"))
            self._say("headache-stop", event.at)
            if state.knot is not None:
                self._drop_knot("interrupted")
            else:
                self._end_current(event.at)
            self._replan()
            self._start_next(event.at)
            return
        if event.kind is EventKind.NAUSEA:
            self._react(event, "paused: nausea", ("X5",))
            self._say("nausea-pause", event.at)
            state.status = SessionStatus.PAUSED
            return
        self._react(event, "headache: easing off", ("U4",))
        self._say("headache-ease", event.at)
        self._adjust(event, -1, ("U4",), "less")

    def on_headache(self, event: Event) -> None:
        self._headache_or_nausea(event)

    def on_nausea(self, event: Event) -> None:
        self._headache_or_nausea(event)

    def on_knot(self, event: Event) -> None:
        state = self.state
        current = state.current
        region_id = event.region or (current.regions[0] if current else None)
        if region_id is None:
            return
        region = self.atlas.region(region_id)
        if state.knot is not None:
            self._react(
                event, f"already on a knot at {state.knot.region}; noted {region_id}", ("U8",)
            )
            state.notes.append(f"another knot on {region_id} while working one")
            if region_id != state.knot.region and region.tissue is Tissue.MUSCLE:
                state.knots.append(
                    KnotRecord(region=region_id, found_at=event.at, outcome="noted", seconds=0.0)
                )
            return
        if region.tissue is Tissue.CAUTION:
            # Not bone: the kidneys lie under it, so no knot work, only light strokes (X2).
            self._react(event, f"{region_id} is over the kidneys: no knot work there", ("X2",))
            self._say("kidney-knot", event.at)
            return
        if region.tissue is not Tissue.MUSCLE:
            self._react(event, f"{region_id} is {region.tissue.value}: never pressed", ("X1",))
            self._say("bone", event.at)
            return
        if current is not None and current.phase is PhaseKind.OPENING:
            # Finding the knots is what the warm-up is for; working them comes after it.
            if region_id not in state.deferred_knots:
                state.deferred_knots.append(region_id)
                state.deferred_at[region_id] = event.at
            self._react(event, f"knot on {region_id} noted: worked after the warm-up", ("O1", "O4"))
            self._say("knot-later", event.at)
            return
        if current is not None and current.phase is PhaseKind.CLOSING:
            self._react(event, "closing already: knot noted for next time", ("C1",))
            state.knots.append(
                KnotRecord(region=region_id, found_at=event.at, outcome="noted", seconds=0.0)
            )
            self._say("no-time-knot", event.at)
            return
        self._start_knot(region_id, event.at)
        self._replan()

    def on_still_tight(self, event: Event) -> None:
        state = self.state
        if state.knot is None or state.current is None or not state.current.knot:
            what = "this is the aftercare" if state.knot is not None else "nothing to climb"
            self._react(event, f"no knot being worked: {what}", ("U6",))
            return
        if state.knot.gentle:
            self._react(event, "still tight: gentle circles only here", ("X3",))
            return
        if self._knot_seconds_now() >= state.knot.limit - 1:
            self._say("knot-bound", event.at)
            self._aftercare(event.at, "bounded")
            return
        self._climb(event.at)

    def on_released(self, event: Event) -> None:
        state = self.state
        if state.knot is None or state.current is None:
            self._react(event, "no knot being worked: nothing to release", ("U9",))
            return
        if not state.current.knot:
            self._react(event, "no knot being worked: this is the aftercare", ("U9",))
            return
        self._react(event, f"knot at {state.knot.region} released", ("U9",))
        self._say("knot-released", event.at)
        self._aftercare(event.at, "released")

    @property
    def asking_elbow(self) -> bool:
        """The elbow question is open only while the forearm rung it was asked on runs (U6)."""
        state = self.state
        knot, current = state.knot, state.current
        return bool(
            knot is not None
            and knot.asked_elbow
            and not (knot.gentle or knot.elbow_accepted or knot.elbow_declined)
            and current is not None
            and current.knot
            and current.contact is not Contact.ELBOW
            and current.id.startswith(f"knot-{knot.number}.")
        )

    def on_accept_elbow(self, event: Event) -> None:
        knot = self.state.knot
        if knot is None or not self.asking_elbow:
            self._react(event, "the elbow was not offered now: nothing changes", ("U6",))
            return
        knot.elbow_accepted = True
        self._react(
            event, "receiver accepted the elbow: start bent at about 45 degrees", ("U6", "U7")
        )
        elbow = next(i for i, r in enumerate(self.book.ladder.rung) if r.needs_consent)
        self._leave_rung()
        step = self._rung(elbow)
        if step is None:
            self._aftercare(event.at, "bounded")
            return
        self._begin(step, event.at)

    def on_decline_elbow(self, event: Event) -> None:
        knot = self.state.knot
        if knot is None or not self.asking_elbow:
            self._react(event, "the elbow was not offered now: nothing changes", ("U6",))
            return
        knot.elbow_declined = True
        # The forearm was the last rung the receiver wants: the ladder ends here (U6, U9).
        self._react(
            event,
            "no elbow: the ladder ends; aftercare, then the knot is noted for next time",
            ("U6", "U9"),
        )
        self._aftercare(event.at, "bounded")

    def on_cough(self, event: Event) -> None:
        current = self.state.current
        if current is not None and current.technique is Technique.PERCUSSION:
            self._react(event, "coughing during percussion is normal: carry on", ("C3",))
            self._say("cough", event.at)
        else:
            self._react(event, "cough noted", ())

    def on_skip(self, event: Event) -> None:
        state = self.state
        current = state.current
        if current is None:
            return
        if self._recent_tickle(current):
            self._move_on_from_tickle(event)
            return
        if state.knot is not None:
            if current.knot:
                self._react(event, "knot work skipped: mild rubbing to finish", ("U9",))
                self._aftercare(event.at, "interrupted")
            elif state.elapsed >= MUST_DO_SECONDS:
                self._react(event, "aftercare cut short", ("U9",))
                self._close_knot(event.at, None)
            else:
                self._shorten_to_minimum(event, cue="aftercare-short", ids=("U9",))
            return
        if current.phase is PhaseKind.CLOSING:
            if current.technique is Technique.PERCUSSION:
                state.removed_techniques[Technique.PERCUSSION.value] = "the receiver skipped it"
            elif state.elapsed < MUST_DO_SECONDS:
                self._shorten_to_minimum(event)
                return
        self._end_current(event.at)
        # One tap skips one step: the other half of a pair keeps a useful minimum (B1).
        kept = balance.partner_kept(state.queue, current, self.plan.steps)
        if state.excluded.get(current.regions[0]) == balance.CUT_SHORT:
            self._react(
                event,
                f"skipped the rest of {current.id}; {current.regions[0]} left for this session",
                ("B1",),
            )
        elif kept is None:
            self._react(event, f"skipped the rest of {current.id}", ())
        else:
            state.queue[state.queue.index(kept[0])] = kept[1]
            self._react(
                event,
                f"skipped the rest of {current.id}; {kept[1].id} still gets its "
                f"{kept[1].seconds:g} s, and the difference is evened out here later",
                ("B1",),
            )
        self._replan()
        self._start_next(event.at)

    def _recent_tickle(self, step: Step) -> bool:
        key = f"{step.phase.value}:{','.join(step.regions)}"
        return self.state.tickles.get(key, 0) > 0

    def _shorten_to_minimum(
        self, event: Event, *, cue: str = "skip-closing", ids: tuple[str, ...] = ("C1",)
    ) -> None:
        state = self.state
        current = state.current
        assert current is not None
        self._say(cue, event.at)
        self._react(event, f"{current.id} shortened to {MUST_DO_SECONDS:g} s", ids)
        state.current = current.model_copy(update={"seconds": MUST_DO_SECONDS})

    def on_pause(self, event: Event) -> None:
        self._react(event, "paused", ())
        self._say("paused", event.at)

    def on_resume(self, event: Event) -> None:
        self._react(event, "resumed", ())
        self._say("resumed", event.at)

    def on_stop(self, event: Event) -> None:
        state = self.state
        if state.knot is not None:
            self._drop_knot("interrupted")
            state.queue.clear()
        self._record_segment()
        state.current = None
        self._knots_not_reached()
        self._react(event, "session stopped", ())
        self._say("stopped", event.at)
        self._say("cold-water", event.at)

    def on_tick(self, event: Event) -> None:
        """Time passing is handled before every event; a tick is only a save point."""

    def on_end(self, event: Event) -> None:
        """The session ended on its own here (the live guides log it). Time passing up to it
        has normally finished the session already; a log whose end comes sooner (written by
        another version of the engine) ends here all the same, as it did for the people."""
        state = self.state
        if state.knot is not None:
            self._drop_knot("interrupted")
        self._record_segment()
        state.current = None
        state.queue.clear()
        self._react(event, "session ended", ())
        self._finish(event.at)


def target_band(step: Step | None) -> tuple[int, int]:
    """How strong the receiver should feel it on 0-10: about 3-5 relaxing, 6-7 on a knot."""
    return KNOT_BAND if step is not None and step.knot else RELAXING_BAND
