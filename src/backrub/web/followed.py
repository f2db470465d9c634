"""One session as the hub holds it: its LiveRun, its lock, and what the live streams last saw.

A phone and a tablet following one session talk to the same LiveRun, under this lock, so their
events are logged in one order. `version` goes up whenever anything a device shows may have
changed; the live streams send the state again when it does, all from one copy built once.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from backrub.live import LiveRun
from backrub.session import SessionStatus
from backrub.web.state import session_state

# Wall seconds added to a stream's wait, so it wakes just after the step's end, not just before.
WAKE_LATE = 0.02


class StreamLook(NamedTuple):
    """What a live stream learns at one look: the version, the state as JSON text (None when
    the stream already has this version), whether the session is over, and how long (wall
    seconds) the clock alone cannot change what a device shows."""

    version: int
    text: str | None
    over: bool
    quiet: float


@dataclass
class Followed:
    """A LiveRun, its lock, and a counter the live streams watch."""

    run: LiveRun
    owner: int | None = None  # the account it belongs to; None in local mode
    lock: threading.Lock = field(default_factory=threading.Lock)
    looked: float = 0.0  # monotonic time of the last catch-up
    used: float = field(default_factory=time.monotonic)  # when a request last asked for it
    version: int = 0
    shown: tuple[object, ...] = ()
    # The newest press sent through this process: {seq, kind, value, source}. Not the engine's
    # business (it acts the same whoever pressed); only the pages tell the giver.
    press: dict[str, Any] | None = None
    # The state built for a version and its JSON text: a press's reply and every stream that
    # sends that version share one copy (built under `lock`).
    built: tuple[int, dict[str, Any]] | None = None
    text: tuple[int, str] | None = None

    def _touch(self) -> None:
        # What a device shows, minus the clocks (the page runs those itself between updates).
        engine = self.run.engine
        state = engine.state
        now = (
            state.status,
            state.current.id if state.current else None,
            int(state.current.pressure) if state.current else None,
            len(state.cues),
            len(state.reactions),
            engine.budget,
            self.run.seq,  # every stored event, so each device can tell it has seen it
        )
        if now != self.shown:
            self.shown = now
            self.version += 1

    def state(self, *, fresh: bool = False) -> dict[str, Any]:
        """The state of the current version (`fresh`: built again, with the clocks of now)."""
        if fresh or self.built is None or self.built[0] != self.version:
            self.built = (self.version, session_state(self.run, self.version, self.press))
        return self.built[1]

    def look(self, known: int) -> StreamLook:
        """For a live stream that has version `known` (call after the clock has run)."""
        over = self.run.engine.status.is_over
        if self.version == known:
            return StreamLook(known, None, over, self.quiet())
        return StreamLook(self.version, self.json(), over, self.quiet())

    def json(self) -> str:
        """The state of the current version as JSON text: one copy for the press's reply and
        every stream that sends this version (NaN or Infinity is a ValueError, not JSON)."""
        if self.text is None or self.text[0] != self.version:
            built = self.built
            state = (
                built[1]
                if built is not None and built[0] == self.version
                else session_state(self.run, self.version, self.press)
            )
            self.text = (self.version, json.dumps(state, allow_nan=False))
            # The text is what the streams send: one copy of the state kept per session, not
            # two (the dict is built again if asked for, at the next fresh look anyway).
            self.built = None
        return self.text[1]

    def clock_due(self) -> bool:
        """Whether letting the clock run may change anything now (a step's end, a timed cue, a
        save point to store, an ending): if not, a look need not run it."""
        return self.run.engine.status.is_over or self.quiet() <= WAKE_LATE

    def quiet(self) -> float:
        """Wall seconds until the clock alone may change what a device shows (the step ends, a
        timed cue is due) or a save point is due; the streams look again then, not sooner."""
        run = self.run
        engine = run.engine
        if engine.status.is_over:
            return float("inf")
        state = engine.state
        ran = max(0.0, run.now() - state.clock)  # session seconds the engine has not seen
        left = run.save_every() - (state.clock - run.last_save)
        if state.status is SessionStatus.RUNNING and state.current is not None:
            left = min(left, state.current.seconds - state.elapsed)
            # Timed cues (a check-in on the upper trapezius, water in a long session) fall
            # between step ends; the engine knows when the next one is due.
            next_cue = getattr(engine, "_next_cue_in", None)
            if callable(next_cue):
                left = min(left, float(next_cue()))
        return max(0.0, left - ran) / run.speed + WAKE_LATE
