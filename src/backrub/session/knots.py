"""The knot ladder: a knot found or planned, climbing rung by rung, the elbow asked for, the
bound, and the aftercare that closes it (U5-U9, O4).
"""

from __future__ import annotations

from backrub.atlas import Area, Side, Tissue
from backrub.method.step import Step
from backrub.method.vocabulary import Contact, PhaseKind, PressureLevel, Technique
from backrub.planner.timing import changed, shortest_seconds
from backrub.session import ladder
from backrub.session.core import EngineCore
from backrub.session.cues import AFTERCARE_NOT_RELEASED
from backrub.session.events import Event
from backrub.session.state import KnotRecord, KnotWork


class KnotMixin(EngineCore):
    """Knot work from the first rung to the aftercare, and its record for the summary."""

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

    def _knot_fit(self, region_id: str) -> bool:
        region = self.atlas.region(region_id)
        limits = self.context().restrictions
        deepest = max(r.pressure for r in self.book.ladder.rung if not r.needs_consent)
        return (
            region.base in self.book.ladder.regions
            and (limits.max_pressure is None or limits.max_pressure >= deepest)
            and region_id not in self._blocked_now()
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
            rubbing = changed(rubbing, cue=AFTERCARE_NOT_RELEASED)
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
