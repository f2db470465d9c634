"""The sessions this server is running: one LiveRun each, shared by every device that follows it.

Each session has a lock of its own (web/followed.py); the hub-wide lock only guards the
dictionaries, never a database call, so loading (replaying) one session never stalls another
session's presses or the notifier's thread.

Sessions nobody follows are released, so a long evening's memory stays flat: an ended one soon
after it was last asked for, a running one after a long quiet spell (with a save point first).
The next request loads it from the store again, to the same state.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from backrub.errors import BackrubError
from backrub.live import JOIN_WITHIN, LiveRun
from backrub.planner import Plan
from backrub.session import Event, EventKind
from backrub.store import Store, StoreError, StoreUnavailable
from backrub.web.followed import Followed, StreamLook
from backrub.web.lean import share

__all__ = ["NO_VERSION", "Conflict", "Followed", "Hub", "NotFound", "StreamLook"]

NO_VERSION = -1  # what a live stream "knows" before its first state
CATCH_UP_EVERY = 2.0  # seconds between looks for other processes' events, when not told
# ...and while the notifier listens (or SQLite has no other server process): only a safety net,
# as every other process's event is told (a reconnected notifier has every session read again).
# Every 30 s was, at 1,000 households on two workers, about 33 reads of the log a second for
# nothing (a third of a read per press), each a worker thread and a database round trip.
CATCH_UP_HEARING = 120.0
RELEASE_OVER = 30.0  # seconds an ended session nobody follows stays loaded after its last use
RELEASE_IDLE = 300.0  # seconds a running session nobody follows or asks for stays loaded
SWEEP_EVERY = 5.0  # seconds between looks for sessions to release
# A running session released this long ago is loaded like one after a crash (its unwatched
# time is not counted): the note that it was released is not kept for ever.
FORGET_RELEASED = 24 * 3600.0


class NotFound(BackrubError):
    """A session or profile id this server does not know."""


class Conflict(BackrubError):
    """A request that clashes with what is stored (a profile name already taken)."""


class Hub:
    """Every session this process serves. Other processes may serve the same ones: before each
    change the hub reads what they stored (catch-up); the store tells them of each event it
    appends, and the notifier (web/notify.py) tells this hub of theirs."""

    def __init__(
        self, store: Store, *, speed: float = 1.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.speed = speed
        self._monotonic = monotonic
        self._lock = threading.Lock()  # guards the dictionaries below, nothing slower
        self._runs: dict[str, Followed] = {}
        self._loading: dict[str, threading.Lock] = {}  # a lock per session being loaded
        self._changed: set[str] = set()  # held sessions other processes stored events for
        self._watchers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._released: dict[str, float] = {}  # running sessions released, and when
        self._swept = monotonic()
        # True while the notifier listens (or no other server process can write, SQLite):
        # the streams then need not look for other processes' events on their own, and a
        # press need not read the log before it is stored (a press that meets a newer event
        # in the store is read up to it and tried again, see LiveRun.record_now).
        self.hearing = False

    def start(
        self, plan: Plan, *, profile_id: int | None = None, account: int | None = None
    ) -> str:
        run = LiveRun.start(
            self.store, plan, profile_id=profile_id, speed=self.speed, account=account
        )
        share(run.engine.plan)
        followed = Followed(run, owner=account, used=self._monotonic())
        followed._touch()
        with self._lock:
            self._runs[run.id] = followed
        return run.id

    def held(self) -> int:
        """How many sessions this process holds in memory now."""
        with self._lock:
            return len(self._runs)

    def followed(self, session_id: str, *, account: int | None = None) -> Followed:
        """The session's LiveRun, loaded (and replayed) from the store on first use.

        A session of another owner is NotFound, exactly like one that does not exist. Loading
        holds only this session's loading lock: other sessions go on meanwhile."""
        now = self._monotonic()
        if now - self._swept >= SWEEP_EVERY:
            self.release_idle(now)
        while True:
            with self._lock:
                found = self._runs.get(session_id)
                if found is not None:
                    if found.owner != account:
                        raise NotFound(f"no session {session_id!r}")
                    found.used = now
                    return found
                loading = self._loading.setdefault(session_id, threading.Lock())
            with loading:
                with self._lock:
                    if session_id in self._runs:
                        continue  # another request loaded it while this one waited
                try:
                    followed = self._load(session_id, account)
                except BaseException:
                    with self._lock:
                        if self._loading.get(session_id) is loading:
                            del self._loading[session_id]
                    raise
                with self._lock:
                    if self._loading.get(session_id) is loading:
                        del self._loading[session_id]
                    # Kept: a copy loaded meanwhile by a request that found no loading lock.
                    kept = self._runs.setdefault(session_id, followed)
                    self._released.pop(session_id, None)
                if kept.owner != account:
                    raise NotFound(f"no session {session_id!r}")
                return kept

    def _load(self, session_id: str, account: int | None) -> Followed:
        try:
            record = self.store.session(session_id, account=account)
        except StoreUnavailable:
            raise  # away for a moment, not missing: 503
        except StoreError:
            raise NotFound(f"no session {session_id!r}") from None
        run = LiveRun.resume(self.store, record, speed=self.speed, account=account)
        share(run.engine.plan)
        with self._lock:
            released = session_id in self._released
        # Another worker may be running it this very moment: start from its clock. One this
        # process released while it ran has a save point from that moment: its clock ran on.
        run.join(
            self.store.last_recorded_at(session_id, account=account),
            datetime.now(UTC),
            within=math.inf if released else JOIN_WITHIN,
        )
        followed = Followed(run, owner=account, used=self._monotonic())
        followed._touch()
        return followed

    def release_idle(self, now: float | None = None) -> list[str]:
        """Let go of the sessions nobody follows that have been left alone long enough; the
        ids released. A running one first stores a save point at its clock of now."""
        now = self._monotonic() if now is None else now
        with self._lock:
            self._swept = now
            for session_id, when in list(self._released.items()):
                if now - when >= FORGET_RELEASED:
                    del self._released[session_id]
            idle = [f for f in self._runs.values() if self._idle(f, now)]
        released = []
        for followed in idle:
            if not followed.lock.acquire(blocking=False):
                continue  # in use this very moment
            try:
                running = not followed.run.ended
                if running and not self._save_point(followed):
                    continue
                session_id = followed.run.id
                with self._lock:
                    if self._runs.get(session_id) is not followed or not self._idle(followed, now):
                        continue  # asked for meanwhile
                    del self._runs[session_id]
                    self._changed.discard(session_id)
                    if running and not followed.run.ended:
                        self._released[session_id] = now
                released.append(session_id)
            finally:
                followed.lock.release()
        return released

    def _idle(self, followed: Followed, now: float) -> bool:
        # Under self._lock.
        if followed.run.id in self._watchers:
            return False
        wait = RELEASE_OVER if followed.run.ended else RELEASE_IDLE
        return now - followed.used >= wait

    def _save_point(self, followed: Followed) -> bool:
        """Store a save point at the clock of now, so the session reloads where it is; False
        when it cannot be stored now (the next sweep tries again)."""
        run = followed.run
        try:
            run.catch_up()
            run.time_passes()
            if not run.engine.status.is_over:
                run.record(Event(at=run.now(), kind=EventKind.TICK))
        except BackrubError:  # the database is away, or another process stored first
            return False
        return True

    def changed_elsewhere(self, message: str) -> None:
        """A process stored events for a session (called by the notifier's thread with
        "SESSION_ID SEQ", as the store announces each event)."""
        session_id, _, seq = message.partition(" ")
        with self._lock:
            followed = self._runs.get(session_id)
            if followed is None and session_id not in self._loading:
                return  # not held here: read from the store whenever it is loaded
            if followed is not None and seq.isdigit() and followed.run.seq >= int(seq):
                return  # our own news, or already read: no need to look at the database
            self._changed.add(session_id)
        self._wake(session_id)

    def hears(self, hearing: bool) -> None:
        """The notifier listens (True) or its connection is down (False)."""
        self.hearing = hearing

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
                found = self._runs.get(session_id)
                if found is not None:
                    found.used = self._monotonic()  # idle from now, not from its last press

    def _wake(self, session_id: str) -> None:
        # Called from worker threads and the notifier's thread: asyncio events are set on
        # their own loop's thread.
        with self._lock:
            watchers = list(self._watchers.get(session_id, ()))
        if not watchers:
            return
        # One hand-off to each loop for all its streams of the session (mostly one loop and
        # two streams): each call_soon_threadsafe may wake the loop's thread.
        loops: dict[asyncio.AbstractEventLoop, list[asyncio.Event]] = {}
        for loop, changed in watchers:
            loops.setdefault(loop, []).append(changed)
        for loop, events in loops.items():
            if not loop.is_closed():
                loop.call_soon_threadsafe(_set_all, events)

    def _catch_up(self, followed: Followed, *, always: bool = False) -> None:
        with self._lock:
            told = followed.run.id in self._changed
            self._changed.discard(followed.run.id)
        now = time.monotonic()
        # Without a notifier (or if a notification was lost) look anyway, now and then.
        every = CATCH_UP_HEARING if self.hearing else CATCH_UP_EVERY
        if always or told or now - followed.looked >= every:
            followed.looked = now
            followed.run.catch_up(heard=told)

    def _run_clock(self, followed: Followed) -> None:
        # Under followed.lock: catch up, let the clock run, note what changed.
        try:
            self._catch_up(followed)
            followed.run.time_passes()
        except StoreUnavailable:
            # The database is away: devices still see this process's state with its clock
            # running; the save point is stored at a later look, and presses get 503.
            pass
        followed._touch()

    def state(self, session_id: str, *, account: int | None = None) -> tuple[int, dict[str, Any]]:
        """Catch up, let the clock run, then the state every device shows, with its version."""
        followed = self.followed(session_id, account=account)
        with followed.lock:
            self._run_clock(followed)
            return followed.version, followed.state(fresh=True)

    def newer_state(
        self, session_id: str, known: int, *, account: int | None = None
    ) -> tuple[int, dict[str, Any] | None]:
        """Like `state`, but None instead of the state when its version is still `known`:
        a live stream looks often, and building the state each time is the expensive part."""
        followed = self.followed(session_id, account=account)
        with followed.lock:
            self._run_clock(followed)
            if followed.version == known:
                return known, None
            return followed.version, followed.state()

    def look(self, session_id: str, known: int, *, account: int | None = None) -> StreamLook:
        """A live stream's look: `newer_state` as JSON text (one copy for every stream of the
        session), and how long the stream may wait before the clock alone changes anything."""
        followed = self.followed(session_id, account=account)
        with followed.lock:
            self._run_clock(followed)
            look = followed.look(known)
        if not self.hearing:
            # Nobody tells this process of other processes' events: look for them now and then.
            return look._replace(quiet=min(look.quiet, CATCH_UP_EVERY))
        return look

    def look_at_once(
        self, session_id: str, known: int, *, account: int | None = None
    ) -> StreamLook | None:
        """`look` without a worker thread, for the event loop: only when it needs neither the
        database nor a wait (the session is held here, its lock is free, what another process
        was told to have stored was heard in full, no catch-up is due, and the clock alone
        changes nothing yet). None otherwise: then call `look` in a thread. A woken stream
        mostly finds the state a press just built, here or, heard, in another process."""
        if not self.hearing:
            return None
        now = self._monotonic()
        with self._lock:
            found = self._runs.get(session_id)
            if found is None or found.owner != account:
                return None
            told = session_id in self._changed
            found.used = now
        if not found.lock.acquire(blocking=False):
            return None
        try:
            if told and not self._heard_at_once(found):
                return None
            if time.monotonic() - found.looked >= CATCH_UP_HEARING or found.clock_due():
                return None
            return found.look(known)
        finally:
            found.lock.release()

    def _heard_at_once(self, followed: Followed) -> bool:
        # Under followed.lock: the told catch-up from the events the notifier heard. In the
        # slow seconds of a busy evening every worker thread may be waiting for the database;
        # the other device of a press should not wait behind them. False: the log must be
        # read, in a thread (the session stays told).
        session_id = followed.run.id
        with self._lock:
            self._changed.discard(session_id)  # before reading: later news marks it again
        if not followed.run.catch_up_heard():
            with self._lock:
                self._changed.add(session_id)
            return False
        followed.looked = time.monotonic()
        followed._touch()
        return True

    def send_json(
        self,
        session_id: str,
        kind: EventKind,
        *,
        region: str | None = None,
        value: int | None = None,
        account: int | None = None,
        source: str = "page",
        age: float = 0.0,
        press_id: str | None = None,
    ) -> str:
        """Log and apply one event now; the state just after it as JSON text (the same copy
        the live streams send). Raises BackrubError (SessionOver) and changes nothing.

        `source` says who pressed ("remote": the receiver's remote); it goes into the live
        state's `press` for the pages, not into the stored event. `age`: the press was made
        that many seconds ago (a device kept it while offline); it is logged then, but never
        before the last logged event (`LiveRun.event`). `press_id`: the device's id for the
        press; one the session holds already raises AlreadyStored (`LiveRun.record`)."""
        followed = self.followed(session_id, account=account)
        with followed.lock:
            self._catch_up(followed, always=not self.hearing)
            if age <= 0:
                followed.run.time_passes()
            try:
                # Caught up: the first try stores at once, without reading again. A kept press:
                # the reply is the session just after it; the next look runs the clock on (a
                # save point stored now would bar the next kept press from its time).
                followed.run.record_now(
                    kind, region=region, value=value, age=age, caught_up=True, press_id=press_id
                )
                followed.press = {
                    "seq": followed.run.seq,
                    "kind": kind.value,
                    "value": value,
                    "source": source,
                }
            finally:
                followed._touch()
            answer = followed.json()  # under the lock: the state just after the press
        self._wake(session_id)
        return answer

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._runs.pop(session_id, None)
            self._changed.discard(session_id)
            self._released.pop(session_id, None)


def _set_all(events: list[asyncio.Event]) -> None:
    for changed in events:
        changed.set()
