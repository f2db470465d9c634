"""The engine's core: the public calls, time passing, steps starting and ending, what it says.

`EngineCore` holds the state every part works on; the reactions live in mixins (comfort, knots,
stops, replanning, balancing) that `SessionEngine` puts on top of it. The calls one part makes
into another are declared at the end of this class, so each part type-checks on its own.
"""

from __future__ import annotations

from backrub.atlas import Atlas, default_atlas
from backrub.errors import BackrubError
from backrub.method.step import Step
from backrub.method.vocabulary import PhaseKind, PressureLevel, Technique
from backrub.planner import Plan, PlanStatus
from backrub.planner.timing import PAIR, changed
from backrub.safety import SafetyContext, SequenceJudge, Violation
from backrub.safety.restrictions import Restrictions
from backrub.safety.rules import UPPER_TRAPEZIUS
from backrub.session.cues import CueBook
from backrub.session.events import Event
from backrub.session.machine import ALLOWED, TRANSITIONS, handler_name
from backrub.session.state import Cue, Reaction, Segment, SessionState, SessionStatus

CHECK_IN_EVERY = 30.0
WATER_FIRST = 15 * 60.0
WATER_EVERY = 20 * 60.0


class SessionOver(BackrubError):
    """An event for a session that has finished or was stopped: refused, nothing changes."""


class EngineCore:
    """The shared state (`plan`, `atlas`, `book`, `budget`, `state`) and the engine's spine."""

    def __init__(self, plan: Plan, *, atlas: Atlas | None = None) -> None:
        if plan.status is not PlanStatus.READY or not plan.steps:
            raise BackrubError("this plan has no steps to guide (screening refused it)")
        self.plan = plan
        self.atlas = atlas or default_atlas()
        self.book = CueBook(plan.routine_id)
        self.budget = float(plan.budget_seconds)
        self.state = SessionState(queue=list(plan.steps))
        self._new: list[Cue] = []
        # Kept between events because they change far less often than events come: the steps
        # done (the timeline only grows), the limits in force and the regions taken out (both
        # rebuilt only when what they are made of changed). See `_history` and `context`.
        self._done: list[Step] = []
        self._context_key: tuple[object, ...] | None = None
        self._context: SafetyContext | None = None
        self._blocked_key: tuple[object, ...] | None = None
        self._blocked: frozenset[str] = frozenset()
        self._water_seen = (0, 0)
        self._judge = SequenceJudge(self.atlas)
        self._judged_last: Step | None = None
        # Balancing's side totals of the steps done, and how many steps (up to which) they hold.
        self._sides: list[float] = []  # flat: see `balance.SideSlots`
        self._sides_counted: tuple[int, Step | None] = (0, None)
        self._say("setting", 0.0)
        self._start_next(0.0)

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
        state = self.state
        key = (
            tuple(state.excluded.items()),
            tuple(state.removed_techniques.items()),
            state.upper_trapezius_stopped,
            state.status is SessionStatus.STOPPED,
        )
        if self._context is None or key != self._context_key:
            session = Restrictions(
                excluded_regions=dict(state.excluded),
                removed_techniques={
                    Technique(t): why for t, why in state.removed_techniques.items()
                },
            )
            self._context = SafetyContext(
                atlas=self.atlas,
                restrictions=self.plan.restrictions.merged(session),
                upper_trapezius_stopped=state.upper_trapezius_stopped,
                balance_tolerance=0.10,
                require_closing=state.status is not SessionStatus.STOPPED,
            )
            self._context_key = key
        return self._context

    @property
    def done_steps(self) -> list[Step]:
        return list(self._history())

    def _history(self) -> list[Step]:
        """The steps done so far, in order: the engine's own list, read but never changed by
        its callers. Only the new end of the timeline is read: a timeline that is not the
        one this list was made from (a shorter one, another last step) is read again whole."""
        done, timeline = self._done, self.state.timeline
        if len(done) != len(timeline) or (done and done[-1] is not timeline[-1].step):
            kept = len(done) < len(timeline) and (
                not done or done[-1] is timeline[len(done) - 1].step
            )
            if not kept:
                done.clear()
            done.extend(segment.step for segment in timeline[len(done) :])
        return done

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
            waits.append(WATER_FIRST + self._water_said() * WATER_EVERY - state.worked)
        return max(1e-6, min(waits))

    def _breaks(self, step: Step, *, after: Step | None = None) -> list[Violation]:
        """The rules `step` would break if done now, after the steps done (and `after`, the
        part of the current step done so far). Every judgement of the engine goes through here."""
        judge = self._judge_now()
        if after is not None:
            judge = judge.after(after)
        return judge.judge(step, self.context())

    def _judge_now(self) -> SequenceJudge:
        """The judge that has seen the steps done: fed only the new ones (rebuilt if the
        timeline is not the one it was fed from)."""
        done, judge = self._history(), self._judge
        seen = len(judge)
        if seen > len(done) or (seen and done[seen - 1] is not self._judged_last):
            judge = self._judge = SequenceJudge(self.atlas)
            seen = 0
        if seen < len(done):
            judge.extend(done[seen:])
            self._judged_last = done[-1]
        return judge

    def _water_said(self) -> int:
        """How many times water was offered: counted again only when something new was said
        (the things said only grow, and many are said per step)."""
        said = self.state.care_said
        if self._water_seen[0] != len(said):
            self._water_seen = (len(said), sum(1 for key in said if key.startswith("water-")))
        return self._water_seen[1]

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

    def _record_segment(self) -> None:
        state = self.state
        if state.current is None:
            return
        seconds = state.elapsed - state.segment_from
        if seconds > 1e-6:
            done = changed(state.current, seconds=round(seconds, 3))
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
        queue, pair = self.state.queue, step.pair
        # Found by searching the queue's pairs without a loop in Python (the queue is long, and
        # asked at every step's start and end), in order.
        pairs = list(map(PAIR, queue))
        index = -1
        for _ in range(pairs.count(pair)):
            index = pairs.index(pair, index + 1)
            seconds = round(done, 3)
            # Bound to a half already under way: dropping it would unbalance the pair.
            queue[index] = changed(
                queue[index], seconds=seconds, min_seconds=seconds, max_seconds=seconds, priority=1
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

    @staticmethod
    def _rest_of(step: Step, seconds: float) -> Step:
        """The rest of a step, done later: all of it, since its other half keeps the full time
        (B1); dropped or shortened, it would leave the pair uneven."""
        return changed(
            step,
            seconds=seconds,
            min_seconds=seconds,
            max_seconds=seconds,
            pair=None,
            priority=1 if step.pair is not None else step.priority,
        )

    def _finish(self, at: float) -> None:
        state = self.state
        if state.status.is_over:
            return
        state.status = SessionStatus.FINISHED
        self._knots_not_reached()
        self._say("finished", at)
        self._say("cold-water", at)
        self._say("swap-roles", at)

    def _blocked_regions(self) -> set[str]:
        return set(self._blocked_now())

    def _blocked_now(self) -> frozenset[str]:
        """The regions taken out, by screening or during the session; rebuilt only when the
        session took out more."""
        state = self.state
        key = (tuple(state.excluded), state.upper_trapezius_stopped)
        if key != self._blocked_key:
            blocked = set(state.excluded) | set(self.plan.restrictions.excluded_regions)
            if state.upper_trapezius_stopped:
                blocked |= {r.id for r in self.atlas.regions if r.base == UPPER_TRAPEZIUS}
            self._blocked, self._blocked_key = frozenset(blocked), key
        return self._blocked

    def _interrupt(self, at: float) -> None:
        """Stop what is being done now for the receiver's sake (pain, a headache): the knot is
        dropped, or the current step ended; the rest re-planned, and the next step started."""
        if self.state.knot is not None:
            self._drop_knot("interrupted")
        else:
            self._end_current(at)
        self._replan()
        self._start_next(at)

    def _leave(self, spot: str, why: str) -> None:
        """Leave `spot` out for the rest of the session, and note when (work clock), so a check
        can tell the work done there before from any after."""
        self.state.excluded[spot] = why
        self.state.excluded_at[spot] = self.state.worked

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

    def on_tick(self, event: Event) -> None:
        """Time passing is handled before every event; a tick is only a save point."""

    # ------------------------------------------------------------------ across the parts
    # Defined by the mixin named on each line; `SessionEngine` puts the mixins before this class.

    def _fit_for_now(self, step: Step) -> Step | None:  # replanning
        raise NotImplementedError

    def _replan(self) -> None:  # replanning
        raise NotImplementedError

    def _replan_closing(self) -> None:  # replanning
        raise NotImplementedError

    def _remaining_budget(self) -> float:  # replanning
        raise NotImplementedError

    def _owed(self) -> dict[str, float]:  # balancing
        raise NotImplementedError

    def _as_it_will_be(self, step: Step) -> Step:  # balancing
        raise NotImplementedError

    def _even_out_before_closing(self, at: float) -> None:  # balancing
        raise NotImplementedError

    def _react_balance(self, steps: list[Step], when: str) -> None:  # balancing
        raise NotImplementedError

    def _safe(self, step: Step) -> Step | None:  # stops
        raise NotImplementedError

    def _with_pressure(self, step: Step, wanted: int) -> Step:  # stops
        raise NotImplementedError

    def _change_current(self, step: Step, at: float) -> bool:  # stops
        raise NotImplementedError

    def _end_current(self, at: float, *, requeue: Step | None = None) -> None:  # stops
        raise NotImplementedError

    def _move_on_from_tickle(self, event: Event) -> None:  # comfort
        raise NotImplementedError

    def _start_knot(
        self,
        region_id: str,
        at: float,
        *,
        planned_limit: float | None = None,
        found_at: float | None = None,
    ) -> None:  # knots
        raise NotImplementedError

    def _start_planned_knot(self, first: Step, at: float) -> None:  # knots
        raise NotImplementedError

    def _knot_step_done(self, at: float, step: Step) -> None:  # knots
        raise NotImplementedError

    def _climb(self, at: float, *, cause: str = "still-tight") -> None:  # knots
        raise NotImplementedError

    def _aftercare(self, at: float, outcome: str) -> None:  # knots
        raise NotImplementedError

    def _drop_knot(self, outcome: str) -> None:  # knots
        raise NotImplementedError

    def _close_knot(self, at: float, outcome: str | None) -> None:  # knots
        raise NotImplementedError

    def _knots_not_reached(self) -> None:  # knots
        raise NotImplementedError
