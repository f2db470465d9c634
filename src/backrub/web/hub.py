"""The sessions this server is running: one LiveRun each, shared by every device that follows it.

A phone and a tablet following one session talk to the same LiveRun, under one lock, so their
events are logged in one order. `version` goes up whenever anything a device shows may have
changed; the live stream sends the state again when it does.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from backrub.errors import BackrubError
from backrub.live import LiveRun
from backrub.planner import Plan
from backrub.session import Event, EventKind
from backrub.store import Store, StoreError
from backrub.web.state import session_state


class NotFound(BackrubError):
    """A session or profile id this server does not know."""


class Conflict(BackrubError):
    """A request that clashes with what is stored (a profile name already taken)."""


@dataclass
class Followed:
    """A LiveRun, its lock, and a counter the live streams watch."""

    run: LiveRun
    lock: threading.Lock = field(default_factory=threading.Lock)
    version: int = 0
    shown: tuple[object, ...] = ()

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
        )
        if now != self.shown:
            self.shown = now
            self.version += 1


class Hub:
    def __init__(self, store: Store, *, speed: float = 1.0) -> None:
        self.store = store
        self.speed = speed
        self._lock = threading.Lock()
        self._runs: dict[str, Followed] = {}

    def start(self, plan: Plan, *, profile_id: int | None = None) -> str:
        run = LiveRun.start(self.store, plan, profile_id=profile_id, speed=self.speed)
        followed = Followed(run)
        followed._touch()
        with self._lock:
            self._runs[run.id] = followed
        return run.id

    def followed(self, session_id: str) -> Followed:
        """The session's LiveRun, loaded (and replayed) from the store on first use."""
        with self._lock:
            found = self._runs.get(session_id)
            if found is not None:
                return found
            try:
                record = self.store.session(session_id)
            except StoreError:
                raise NotFound(f"no session {session_id!r}") from None
            followed = Followed(LiveRun.resume(self.store, record, speed=self.speed))
            followed._touch()
            self._runs[session_id] = followed
            return followed

    def state(self, session_id: str) -> tuple[int, dict[str, Any]]:
        """Let the clock run, then the state every device shows, with its version."""
        followed = self.followed(session_id)
        with followed.lock:
            followed.run.time_passes()
            followed._touch()
            return followed.version, session_state(followed.run, followed.version)

    def send(
        self,
        session_id: str,
        kind: EventKind,
        *,
        region: str | None = None,
        value: int | None = None,
    ) -> dict[str, Any]:
        """Log and apply one event now; raises BackrubError (SessionOver) and changes nothing."""
        followed = self.followed(session_id)
        with followed.lock:
            followed.run.time_passes()
            event: Event = followed.run.event(kind, region=region, value=value)
            followed.run.record(event)
            followed._touch()
            return session_state(followed.run, followed.version)

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._runs.pop(session_id, None)
