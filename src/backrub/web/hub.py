"""The sessions this server is running: one LiveRun each, shared by every device that follows it.

A phone and a tablet following one session talk to the same LiveRun, under one lock, so their
events are logged in one order. `version` goes up whenever anything a device shows may have
changed; the live stream sends the state again when it does.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from backrub.errors import BackrubError
from backrub.live import LiveRun
from backrub.planner import Plan
from backrub.session import EventKind
from backrub.store import Store, StoreError, StoreUnavailable
from backrub.web.state import session_state

NO_VERSION = -1  # what a live stream "knows" before its first state
CATCH_UP_EVERY = 2.0  # seconds between looks for other processes' events, when not told


class NotFound(BackrubError):
    """A session or profile id this server does not know."""


class Conflict(BackrubError):
    """A request that clashes with what is stored (a profile name already taken)."""


@dataclass
class Followed:
    """A LiveRun, its lock, and a counter the live streams watch."""

    run: LiveRun
    owner: int | None = None  # the account it belongs to; None in local mode
    lock: threading.Lock = field(default_factory=threading.Lock)
    looked: float = 0.0  # monotonic time of the last catch-up
    version: int = 0
    shown: tuple[object, ...] = ()
    # The newest press sent through this process: {seq, kind, value, source}. Not the engine's
    # business (it acts the same whoever pressed); only the pages tell the giver.
    press: dict[str, Any] | None = None

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


class Hub:
    """Every session this process serves. Other processes may serve the same ones: before each
    change the hub reads what they stored (catch-up); the store tells them of each event it
    appends, and the notifier (web/notify.py) tells this hub of theirs."""

    def __init__(self, store: Store, *, speed: float = 1.0) -> None:
        self.store = store
        self.speed = speed
        self._lock = threading.Lock()
        self._runs: dict[str, Followed] = {}
        self._changed: set[str] = set()
        self._watchers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def start(
        self, plan: Plan, *, profile_id: int | None = None, account: int | None = None
    ) -> str:
        run = LiveRun.start(
            self.store, plan, profile_id=profile_id, speed=self.speed, account=account
        )
        followed = Followed(run, owner=account)
        followed._touch()
        with self._lock:
            self._runs[run.id] = followed
        return run.id

    def followed(self, session_id: str, *, account: int | None = None) -> Followed:
        """The session's LiveRun, loaded (and replayed) from the store on first use.

        A session of another owner is NotFound, exactly like one that does not exist."""
        with self._lock:
            found = self._runs.get(session_id)
            if found is not None:
                if found.owner != account:
                    raise NotFound(f"no session {session_id!r}")
                return found
            try:
                record = self.store.session(session_id, account=account)
            except StoreUnavailable:
                raise  # away for a moment, not missing: 503
            except StoreError:
                raise NotFound(f"no session {session_id!r}") from None
            run = LiveRun.resume(self.store, record, speed=self.speed, account=account)
            # Another worker may be running it this very moment: start from its clock.
            run.join(self.store.last_recorded_at(session_id, account=account), datetime.now(UTC))
            followed = Followed(run, owner=account)
            followed._touch()
            self._runs[session_id] = followed
            return followed

    def changed_elsewhere(self, message: str) -> None:
        """A process stored events for a session (called by the notifier's thread with
        "SESSION_ID SEQ", as the store announces each event)."""
        session_id, _, seq = message.partition(" ")
        with self._lock:
            followed = self._runs.get(session_id)
            if followed is not None and seq.isdigit() and followed.run.seq >= int(seq):
                return  # our own news, or already read: no need to look at the database
            self._changed.add(session_id)
        self._wake(session_id)

    def changed_everywhere(self) -> None:
        """News may have been lost (the notifier reconnected): every session is read again."""
        with self._lock:
            followed = list(self._runs)
            self._changed.update(followed)
        for session_id in followed:
            self._wake(session_id)

    @contextmanager
    def watch(self, session_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever this session may have changed, for a live stream to wait on
        (so feedback reaches every device at once, not at the stream's next look)."""
        watcher = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._watchers.setdefault(session_id, set()).add(watcher)
        try:
            yield watcher[1]
        finally:
            with self._lock:
                watchers = self._watchers.get(session_id, set())
                watchers.discard(watcher)
                if not watchers:
                    self._watchers.pop(session_id, None)

    def _wake(self, session_id: str) -> None:
        # Called from worker threads and the notifier's thread: asyncio events are set on
        # their own loop's thread.
        with self._lock:
            watchers = list(self._watchers.get(session_id, ()))
        for loop, changed in watchers:
            if not loop.is_closed():
                loop.call_soon_threadsafe(changed.set)

    def _catch_up(self, followed: Followed, *, always: bool = False) -> None:
        with self._lock:
            told = followed.run.id in self._changed
            self._changed.discard(followed.run.id)
        now = time.monotonic()
        # Without a notifier (or if a notification was lost) look anyway, now and then.
        if always or told or now - followed.looked >= CATCH_UP_EVERY:
            followed.looked = now
            followed.run.catch_up()

    def state(self, session_id: str, *, account: int | None = None) -> tuple[int, dict[str, Any]]:
        """Catch up, let the clock run, then the state every device shows, with its version."""
        version, state = self.newer_state(session_id, NO_VERSION, account=account)
        assert state is not None  # no session's version is NO_VERSION
        return version, state

    def newer_state(
        self, session_id: str, known: int, *, account: int | None = None
    ) -> tuple[int, dict[str, Any] | None]:
        """Like `state`, but None instead of the state when its version is still `known`:
        a live stream looks often, and building the state each time is the expensive part."""
        followed = self.followed(session_id, account=account)
        with followed.lock:
            try:
                self._catch_up(followed)
                followed.run.time_passes()
            except StoreUnavailable:
                # The database is away: devices still see this process's state with its clock
                # running; the save point is stored at a later look, and presses get 503.
                pass
            followed._touch()
            if followed.version == known:
                return known, None
            return followed.version, session_state(followed.run, followed.version, followed.press)

    def send(
        self,
        session_id: str,
        kind: EventKind,
        *,
        region: str | None = None,
        value: int | None = None,
        account: int | None = None,
        source: str = "page",
        age: float = 0.0,
    ) -> dict[str, Any]:
        """Log and apply one event now; raises BackrubError (SessionOver) and changes nothing.

        `source` says who pressed ("remote": the receiver's remote); it goes into the live
        state's `press` for the pages, not into the stored event. `age`: the press was made
        that many seconds ago (a device kept it while offline); it is logged then, but never
        before the last logged event (`LiveRun.event`)."""
        followed = self.followed(session_id, account=account)
        with followed.lock:
            self._catch_up(followed, always=True)
            if age <= 0:
                followed.run.time_passes()
            try:
                # A kept press: the reply is the session just after it; the next look runs the
                # clock on (a save point stored now would bar the next kept press from its time).
                followed.run.record_now(kind, region=region, value=value, age=age)
                followed.press = {
                    "seq": followed.run.seq,
                    "kind": kind.value,
                    "value": value,
                    "source": source,
                }
            finally:
                followed._touch()
            state = session_state(followed.run, followed.version, followed.press)
        self._wake(session_id)
        return state

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._runs.pop(session_id, None)
