"""Moving within the plan on request: "+30 s here" (`extend`) and "back one step" (`back`).

Both are logged events like any feedback, so a replay of the log gives the same session. Neither
makes the session longer: the time comes from later flexible steps (shortened within their
bounds, never dropped), and when nothing can give the engine refuses with a reaction saying so.
Going back is a step change like any other: the step done again is judged by the safety rules,
and a region left for pain or a tickle is not gone back to.

A mixin: `SessionEngine` inherits it, and the handlers use the engine's own helpers (declared in
`_Engine` below, so mypy checks that the engine has them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from backrub.atlas import Atlas
from backrub.method.step import Step
from backrub.method.vocabulary import PhaseKind
from backrub.planner import Plan
from backrub.planner.timing import shortest_seconds
from backrub.safety import SafetyContext, Violation
from backrub.session import balance
from backrub.session.events import Event
from backrub.session.state import SessionState

EXTEND_SECONDS = 30.0
# A step done again gets the time it had, but never less than this (a step skipped at once).
LEAST_REDO_SECONDS = 10.0
# Re-planning rounds the evening-out to whole seconds: keep a little room for that.
ROUNDING_ROOM = 5.0


class _Engine(Protocol):
    """What the handlers need of the engine (all of it the engine's own)."""

    state: SessionState
    budget: float
    plan: Plan
    atlas: Atlas

    @property
    def done_steps(self) -> list[Step]: ...

    def context(self) -> SafetyContext: ...

    def _breaks(self, step: Step, *, after: Step | None = None) -> list[Violation]: ...

    def _replan(self) -> None: ...

    def _fix_partner(self, step: Step, done: float) -> None: ...

    def _record_segment(self) -> None: ...

    def _announce(self, step: Step, at: float) -> None: ...

    def _react(self, event: Event, what: str, ids: tuple[str, ...]) -> None: ...

    def _say(self, key: str, at: float) -> None: ...

    def _as_it_will_be(self, step: Step) -> Step: ...

    def _blocked_regions(self) -> set[str]: ...

    @staticmethod
    def _rest_of(step: Step, seconds: float) -> Step: ...


def _current_so_far(engine: _Engine) -> Step | None:
    """The current step as done up to now (None when nothing of it is done yet)."""
    state = engine.state
    so_far = state.elapsed - state.segment_from
    if state.current is not None and so_far > 1e-6:
        return state.current.model_copy(update={"seconds": so_far})
    return None


def _done_so_far(engine: _Engine) -> list[Step]:
    """Every step done, the current one up to now included."""
    partial = _current_so_far(engine)
    return [*engine.done_steps, partial] if partial is not None else engine.done_steps


def _fits(engine: _Engine, now: Step, queue: list[Step]) -> bool:
    """Whether `now` (done in full from here), then `queue` at its shortest, and whatever the
    sides will owe each other (B1) still fit in what is left of the budget."""
    pending = [engine._as_it_will_be(step) for step in (now, *queue)]
    owed = balance.owed_by_region([*_done_so_far(engine), *pending], engine.context())
    if owed and engine.state.balanced:
        # The sides were evened out for the closing: more work on one side now could only be
        # evened out after the closing began, which breaks its order (C1).
        return False
    room = engine.budget - engine.state.worked - now.seconds
    return shortest_seconds(queue) + sum(owed.values()) + ROUNDING_ROOM <= room


def _where(engine: _Engine, step: Step) -> str:
    """The step's regions in words, as the live view names them."""
    names = dict.fromkeys(engine.atlas.region(r).name.split(" (")[0] for r in step.regions)
    return ", ".join(names)


def _why_blocked(engine: _Engine, region: str) -> str:
    state = engine.state
    why = state.excluded.get(region) or engine.plan.restrictions.excluded_regions.get(region)
    return why or "upper-trapezius work stopped for a headache or nausea"


class NavigationMixin:
    """The engine's handlers for `extend` and `back`."""

    def on_extend(self: _Engine, event: Event) -> None:
        state = self.state
        current = state.current
        if current is None:
            return
        refused: tuple[str, tuple[str, ...]] | None = None
        if state.knot is not None:
            refused = ("knot work keeps its own times", ("U8", "U9"))
        elif balance.is_even_out(current):
            refused = ("this step evens out the sides, its time is the other side's", ("B1",))
        if refused is not None:
            _refuse(self, event, "extend", *refused)
            return
        longer = current.model_copy(
            update={
                "seconds": current.seconds + EXTEND_SECONDS,
                "max_seconds": max(
                    current.seconds + EXTEND_SECONDS, current.max_seconds or current.seconds
                ),
            }
        )
        left = longer.model_copy(update={"seconds": longer.seconds - state.elapsed})
        broken = self._breaks(left, after=_current_so_far(self))
        if broken:
            _refuse(self, event, "extend", f"it would break a rule ({broken[0].message})", ("X5",))
            return
        # The other half of a pair gets the same time (B1), so it costs twice.
        partner = next(
            (s for s in state.queue if current.pair is not None and s.pair == current.pair), None
        )
        queue = [
            s.model_copy(update={"seconds": longer.seconds, "min_seconds": longer.seconds})
            if s is partner
            else s
            for s in state.queue
        ]
        if not _fits(self, left, queue):
            _refuse(self, event, "extend", "no later step can give the time", ())
            return
        state.current = longer
        self._fix_partner(longer, longer.seconds)
        self._replan()
        also = " (the other side gets it too, to keep them even)" if partner is not None else ""
        self._react(
            event,
            f"{EXTEND_SECONDS:g} s more on {_where(self, current)}{also}; later steps are shorter",
            ("B1",) if partner is not None else (),
        )
        state.notes.append(f"{current.id}: {EXTEND_SECONDS:g} s more, asked for")
        self._say("extend", event.at)

    def on_back(self: _Engine, event: Event) -> None:
        state = self.state
        current = state.current
        if current is None:
            return
        redo = _previous(self, current)
        if isinstance(redo, _No):
            _refuse(self, event, "back", redo.why, redo.ids)
            return
        left = current.seconds - state.elapsed
        rest = self._rest_of(current, left) if left >= 1 else None
        queue = [rest, *state.queue] if rest is not None else list(state.queue)
        if not _fits(self, redo, queue):
            shorter = redo.model_copy(update={"seconds": LEAST_REDO_SECONDS})
            if redo.seconds <= LEAST_REDO_SECONDS or not _fits(self, shorter, queue):
                _refuse(self, event, "back", f"no time to do {redo.id} again", ())
                return
            redo = shorter
        bounded = {"min_seconds": redo.seconds, "max_seconds": redo.seconds}
        redo = redo.model_copy(update={**bounded, "pair": None, "priority": 1})
        self._record_segment()
        # The rest of this step comes straight after; the other half of a pair keeps the time
        # this half will have had in all (B1).
        self._fix_partner(current, current.seconds if rest is not None else state.elapsed)
        state.queue = queue
        state.current = redo
        state.elapsed = 0.0
        state.segment_from = 0.0
        state.last_check_in = state.worked
        self._replan()
        after = ", then the rest of this one" if rest is not None else ""
        self._react(
            event,
            f"the step before again: {_where(self, redo)} for {redo.seconds:.0f} s{after}",
            (),
        )
        state.notes.append(f"{redo.id}: done again ({redo.seconds:.0f} s), asked for")
        self._say("back", event.at)
        self._announce(redo, event.at)


def _refuse(engine: _Engine, event: Event, kind: str, why: str, ids: tuple[str, ...]) -> None:
    what = "no extra time here" if kind == "extend" else "not going back"
    engine._react(event, f"{what}: {why}", ids)
    engine._say(f"{kind}-refused", event.at)


@dataclass(frozen=True)
class _No:
    """Why the engine will not go back."""

    why: str
    ids: tuple[str, ...] = ()


def _previous(engine: _Engine, current: Step) -> Step | _No:
    """The step before this one as it was last done, with the time it had; or why not.

    Steps still to come (the rest of a step left for going back) are passed over, so pressing
    back twice goes back two steps."""
    state = engine.state
    if state.knot is not None:
        return _No("knot work runs once, with its aftercare", ("U6", "U9"))
    pending = {step.id for step in state.queue}
    before: Step | None = None
    seconds = 0.0
    for segment in reversed(state.timeline):
        step = segment.step
        if before is None:
            if step.id != current.id and step.id not in pending:
                before, seconds = step, step.seconds
        elif step.id == before.id:
            seconds += step.seconds
        else:
            break
    if before is None:
        return _No("this is the first step", ())
    if before.id.startswith("knot"):
        return _No("the step before was knot work, done once with its aftercare", ("U9",))
    if balance.is_even_out(before):
        return _No("the step before evened out the sides", ("B1",))
    if current.phase is PhaseKind.CLOSING:
        # Its order is the method's (C1): compressions, percussion, sweeps, once.
        return _No("the closing has begun, the massage is ending", ("C1",))
    if before.technique.value in state.removed_techniques:
        why = state.removed_techniques[before.technique.value]
        return _No(f"{before.technique.value} was taken out ({why})")
    key = f"{before.phase.value}:{','.join(before.regions)}"
    if state.tickles.get(key, 0) > 0:
        return _No(f"{_where(engine, before)} tickled, so it is not done again", ("L1",))
    blocked = engine._blocked_regions()
    regions = tuple(r for r in before.regions if r not in blocked)
    if not regions:
        region = before.regions[0]
        name = engine.atlas.region(region).name
        return _No(f"{name} was left out ({_why_blocked(engine, region)})", ("X1",))
    redo = before.model_copy(
        update={"regions": regions, "seconds": max(LEAST_REDO_SECONDS, round(seconds, 3))}
    )
    broken = engine._breaks(redo, after=_current_so_far(engine))
    if broken:
        return _No(f"the step before would break a rule now ({broken[0].message})", ("X5",))
    return redo
