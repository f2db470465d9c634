"""How the engine answers the receiver's comfort: firmer, lighter, a number felt, a tickle, pain,
a headache or nausea, a cough.
"""

from __future__ import annotations

from backrub.method.vocabulary import PhaseKind, Technique
from backrub.method.words import contact_info
from backrub.planner.timing import changed
from backrub.session.core import EngineCore
from backrub.session.events import Event, EventKind
from backrub.session.state import SessionStatus

RELAXING_BAND = (3, 5)
KNOT_BAND = (6, 7)
TOO_MUCH = 8


class ComfortMixin(EngineCore):
    """The reactions to comfort reports (U4, L1, X4, C3)."""

    def _adjust(self, event: Event, delta: int, ids: tuple[str, ...], cue: str) -> bool:
        """Pressure up or down by `delta` levels on the current step; False when it cannot."""
        state = self.state
        current = state.current
        if current is None:
            return False
        wanted = int(current.pressure) + delta
        if state.knot is not None and current.knot:
            info = contact_info(current.contact)
            candidate = changed(current, pressure=info.clamp(wanted))
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
            if state.elapsed - state.segment_from > 1e-6:
                self._react(
                    event, "ticklish in the aftercare: it stays light; moving on", ("U9", "L1")
                )
            else:
                # Not a moment of rubbing yet: the knot's spot cannot be settled (U9), so no
                # later step may come back to it; it is left for the rest of the session.
                for spot in current.regions:
                    self._leave(spot, "ticklish before the knot's aftercare")
                self._react(
                    event,
                    "ticklish before any aftercare: leaving that spot for the rest of the session",
                    ("U9", "L1"),
                )
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
        blocked = self._blocked_now()
        if not blocked and not state.removed_techniques:
            # Nothing taken out: every step with a region can still be done (the same steps
            # as below, without asking each region).
            state.queue = [s for s in state.queue if s.phase is PhaseKind.CLOSING or s.regions]
        else:
            state.queue = [
                s
                for s in state.queue
                if s.phase is PhaseKind.CLOSING
                or (
                    # Its regions as it will be done (`_as_it_will_be`), without copying it.
                    any(r not in blocked for r in s.regions)
                    and s.technique.value not in state.removed_techniques
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
            self._leave(spot, "pain reported twice in this session")
        if not set(left) & set(current.regions):
            # Tapped somewhere not worked now: the current step goes on; the rest avoids it.
            self._replan()
            return
        self._interrupt(event.at)

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
            self._interrupt(event.at)
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

    def on_cough(self, event: Event) -> None:
        current = self.state.current
        if current is not None and current.technique is Technique.PERCUSSION:
            self._react(event, "coughing during percussion is normal: carry on", ("C3",))
            self._say("cough", event.at)
        else:
            self._react(event, "cough noted", ())
