"""Safety stops: the guard that softens or skips a step that would break a rule, and the stops
the people ask for (skip, pause, stop, end).
"""

from __future__ import annotations

from collections.abc import Iterator

from backrub.atlas import Area
from backrub.method.step import Step
from backrub.method.vocabulary import Contact, PhaseKind, PressureLevel, StepSide, Technique
from backrub.method.wording import reworded
from backrub.method.words import contact_info
from backrub.planner.timing import changed
from backrub.session import balance
from backrub.session.core import EngineCore
from backrub.session.events import Event

MUST_DO_SECONDS = 5.0
# Techniques that press: a firmer wish may change the contact, a softer one ends on the palms.
PRESSING = (
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


class StopsMixin(EngineCore):
    """The guard on every step, and stopping a step or the whole session."""

    def _safe(self, step: Step) -> Step | None:
        """The step, or the nearest gentler version of it that keeps every rule; None if none."""
        judged: list[Step] = []
        for candidate in self._gentler(step):
            # The same version twice (a contact's range clamps the pressure) is judged once.
            if candidate in judged:
                continue
            if not self._breaks(candidate):
                return candidate
            judged.append(candidate)
        self._react_text("safety", f"skipped {step.id}: it would break a rule now", ("X5",))
        self._say("safety-skip", self.state.clock)
        return None

    def _gentler(self, step: Step) -> Iterator[Step]:
        """The step, then ever gentler versions of it, made only as far as they are needed."""
        yield step
        for pressure in range(int(step.pressure) - 1, 0, -1):
            yield self._with_pressure(step, pressure)
        if step.technique in PRESSING and not step.knot:
            yield reworded(
                changed(step, contact=Contact.PALMS, pressure=PressureLevel.LIGHT),
                step,
            )

    def _with_pressure(self, step: Step, wanted: int) -> Step:
        wanted = max(1, min(5, wanted))
        contact = step.contact
        on_neck = any(self.atlas.region(r).area is Area.NECK for r in step.regions)
        if step.technique in PRESSING and not on_neck and step.side is not StepSide.BOTH:
            while wanted > contact_info(contact).max and contact in _STRONGER:
                contact = _STRONGER[contact]
            while wanted < contact_info(contact).min and contact in _SOFTER:
                contact = _SOFTER[contact]
        pressure = contact_info(contact).clamp(wanted)
        # A new contact gets its own words: the old cue would tell the giver to use the old one.
        return reworded(changed(step, pressure=pressure, contact=contact), step)

    def _change_current(self, step: Step, at: float) -> bool:
        """Switch the current step to a new version (pressure, contact) if the rules allow it."""
        state = self.state
        if state.current is None:
            return False
        # The history includes what has been done of the current step so far.
        so_far = state.elapsed - state.segment_from
        done = changed(state.current, seconds=so_far) if so_far > 1e-6 else None
        rest = changed(step, seconds=max(0.0, step.seconds - state.elapsed))
        if self._breaks(rest, after=done):
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
            if region not in self._blocked_now():
                self._leave(region, balance.CUT_SHORT)
        state.current = None
        if requeue is not None:
            state.queue.insert(self._later_in_phase(requeue.phase), requeue)

    def _later_in_phase(self, phase: PhaseKind) -> int:
        """Where a postponed step goes: after the rest of its phase, before the next phase."""
        queue = self.state.queue
        same = [i for i, s in enumerate(queue) if s.phase is phase]
        if same:
            return same[-1] + 1
        return 1 if queue and queue[0].phase is not PhaseKind.CLOSING else 0

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
        state.current = changed(current, seconds=MUST_DO_SECONDS)

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
