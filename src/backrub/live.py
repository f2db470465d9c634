"""A session run for real: the clock, the durable event log and the end, for every front end.

The terminal guide and the web app both run sessions through `LiveRun`. Every event is checked,
written to the store (committed) and only then given to the engine, so the log is never behind
what a person saw: a kill at any instant loses nothing, and `resume` replays the log to the same
step. Save points (`tick` events) are written at every step change and every `SAVE_EVERY`
session seconds (by the process that stored the newest event when several run the session,
see `SAVE_GRACE`), so a resumed clock loses at most that much. A session that finishes on its own
logs an `end` event, like a stop, so every replay of the log finishes it too.
"""

from __future__ import annotations

import contextlib
import copy
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from backrub.errors import BackrubError
from backrub.planner import Plan
from backrub.session import Cue, Event, EventKind, SessionEngine, SessionStatus
from backrub.session.summary import summarize

if TYPE_CHECKING:
    from backrub.store import Store
    from backrub.store.records import EndStatus, SessionRecord

# The store (SQLAlchemy) is imported where it is needed, so commands that never run a session
# start quickly.

# Multiplies the session clock. For tests and demos only: 30 runs a 10-minute session in 20 s.
SPEED_VARIABLE = "BACKRUB_GUIDE_SPEED"
SAVE_EVERY = 10.0  # session seconds between save points while the clock runs
# Session seconds a process waits past SAVE_EVERY for the save point when another process
# stored the session's newest event: that one (the one a device presses on) stores it, and the
# others hear it, instead of every process storing it at the same moment and all but one
# refused (each refusal a transaction waiting on the session's row, as a press may, for
# nothing). If that process has gone, the next stores it this much later.
SAVE_GRACE = 2.0
RETRIES = 5  # tries to store an event while other processes store theirs
JOIN_WITHIN = 2 * SAVE_EVERY  # session seconds since the newest event: someone is running it
CLOCK_SLACK = 1e-9  # session seconds: the engine's own tolerance for "before the last event"


def clock_speed() -> float:
    """The clock's speed-up from BACKRUB_GUIDE_SPEED (tests and demos); 1 when unset."""
    text = os.environ.get(SPEED_VARIABLE, "").strip()
    if not text:
        return 1.0
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 10_000:
        raise BackrubError(
            f"{text!r} is not a clock speed; expected a number above 0", where=SPEED_VARIABLE
        )
    return value


def plan_of(record: SessionRecord) -> Plan:
    """The plan a stored session runs, or a clear error when it cannot be read."""
    try:
        return Plan.from_json(record.plan)
    except (ValueError, KeyError, TypeError) as error:
        raise BackrubError(f"session {record.id} has a plan that cannot be read: {error}") from None


class LiveRun:
    """A session with a running clock whose every event is stored before it takes effect."""

    def __init__(
        self,
        store: Store,
        session_id: str,
        engine: SessionEngine,
        *,
        resumed: bool = False,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        account: int | None = None,
    ) -> None:
        self.store = store
        self.account = account  # the owner passed to every store call; None in local mode
        self.id = session_id
        self.engine = engine
        self.resumed = resumed
        self.speed = speed
        self._monotonic = monotonic
        # The clock goes on from where the log left it: time while nothing ran is not counted.
        self.offset = engine.state.clock
        self.started = monotonic()
        self.last_save = self.offset
        # Whether this process stored the newest event we know of (see SAVE_GRACE).
        self.keeper = True
        self.ended = engine.status.is_over
        self.seq = 0  # the sequence number of the last stored event the engine has applied
        # Wall clock (UTC), to compare with when other processes stored their events.
        self.wall: Callable[[], datetime] = _wall_now

    @classmethod
    def start(
        cls,
        store: Store,
        plan: Plan,
        *,
        profile_id: int | None = None,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        account: int | None = None,
    ) -> LiveRun:
        """Store a new session for this plan (owned by `account` in hosted mode) and run it."""
        # The engine runs the plan exactly as stored, so a resume replays the same plan.
        plan_json = plan.to_json()
        session_id = store.start_session(plan_json, profile_id, account=account)
        engine = SessionEngine(Plan.from_json(plan_json))
        return cls(
            store,
            session_id,
            engine,
            speed=speed,
            monotonic=monotonic,
            account=account,
        )

    @classmethod
    def resume(
        cls,
        store: Store,
        record: SessionRecord,
        *,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        account: int | None = None,
    ) -> LiveRun:
        engine, seq = _replayed(store, record.id, plan_of(record), account)
        run = cls(
            store,
            record.id,
            engine,
            resumed=True,
            speed=speed,
            monotonic=monotonic,
            account=account,
        )
        run.ended = not record.running
        run.seq = seq
        if record.status == "finished" and not engine.status.is_over:
            # A log written before sessions logged their natural end: nothing happened after
            # its last event, so letting the clock run to the end finishes it as it did then.
            engine.advance(engine.state.clock + engine.budget * 3)
        return run

    def join(
        self, recorded_at: datetime | None, now: datetime, *, within: float = JOIN_WITHIN
    ) -> None:
        """Another process may be running this session right now: if it stored an event a
        moment ago (`recorded_at`, wall clock), count the time since then too, so this
        process's clock starts where that one's is, not at its last save point. That holds
        while paused as well (a process running a paused session saves points too): the pause
        goes on, and a resume sent here is stamped when it happens. `within` is that couple
        of save points (session seconds); the web hub passes infinity for a session it let go
        of while it ran, having stored a save point at that moment.

        An ended session has no clock, and a gap longer than a couple of save points means
        nobody has been running it (a server was down): that time is not counted, exactly as
        after a crash."""
        if recorded_at is None or self.engine.status.is_over:
            return
        gap = (now - recorded_at).total_seconds() * self.speed
        if 0 < gap <= within:
            self._follow(self.engine.state.clock, recorded_at, now)

    def now(self) -> float:
        """Session seconds: the time already gone, plus monotonic time since this run began."""
        elapsed = (self._monotonic() - self.started) * self.speed
        return max(self.offset + elapsed, self.engine.state.clock)

    def record(self, event: Event, *, press_id: str | None = None) -> list[Cue]:
        """Check, write (committed), then apply: the log is never behind the engine.

        Raises BackrubError (SessionOver for a finished session) and changes nothing when the
        engine would refuse the event. `press_id`: the device's id for the press; a press the
        log holds already raises AlreadyStored (see `Store.append_event`), also when the engine
        would now refuse it (a repeated stop, say): it was taken the first time."""
        try:
            self.engine.check(event)
        except BackrubError:
            if press_id is not None:
                self.store.check_press(self.id, press_id, event, account=self.account)
            raise
        # `after`: if another process stored an event meanwhile, OutOfDate and nothing stored.
        self.seq = self.store.append_event(
            self.id, event, after=self.seq, account=self.account, press_id=press_id
        )
        self.keeper = True
        cues = self.engine.apply(event)
        if event.kind is not EventKind.TICK:
            self.last_save = event.at
        from backrub.store import StoreUnavailable

        # The event is stored: never an error for it; the ending is stored at the next look.
        with contextlib.suppress(StoreUnavailable):
            self.end_if_over()
        return cues

    def event(
        self,
        kind: EventKind,
        *,
        region: str | None = None,
        value: int | None = None,
        age: float = 0.0,
    ) -> Event:
        """An event of this kind happening now (after letting the clock catch up), or `age`
        wall-clock seconds ago (a press a device kept while offline), but never before the
        last logged event.

        The engine may have run its clock past that moment without logging anything (a live
        stream looks at the session every moment); it is then rebuilt from the log, whose
        last event is where its clock stands, so a replay of the log gives the same session."""
        now = self.now()
        at = now - age * self.speed if age > 0 else now
        if at < self.engine.state.clock - CLOCK_SLACK:
            events = self.store.events(self.id, account=self.account)
            self.engine = SessionEngine.replay(self.engine.plan, events)
        return Event(at=max(at, self.engine.state.clock), kind=kind, region=region, value=value)

    def catch_up(self, *, heard: bool = False) -> bool:
        """Apply the events other processes stored since ours; True if there were any.

        `heard`: a notification told of them; take them from what the notifier heard when
        they follow on from ours (no read of the log), else read the log.

        Our clock then follows theirs: it is set to where the process that stored the newest
        event has its clock now (that event's session time, plus the wall-clock time since it
        was stored), so every process shows the same clock whatever the session's status."""
        if self.ended:
            return False
        new = (
            self.store.heard_events(self.id, after=self.seq, account=self.account)
            if heard
            else None
        )
        if new is None:
            new = self.store.timed_events(self.id, after=self.seq, account=self.account)
        if not new:
            return False
        if self._ran_past(new):
            # Our clock ran ahead of the process that stored these (it may have started its
            # clock later, or not counted a pause nobody watched), and the engine has already
            # moved to our time. The log is the truth: replay all of it, and take its clock.
            new = self.store.timed_events(self.id, account=self.account)
            self.engine = SessionEngine.replay(self.engine.plan, (event for _, event, _ in new))
            self.last_save = self.engine.state.clock  # as after a resume: saved to here
            self._take(new, replayed=True)
        else:
            self._take(new)
        self.end_if_over()
        return True

    def catch_up_heard(self) -> bool:
        """`catch_up(heard=True)` from what the notifier heard alone, never the database; False
        when that is not enough (the heard events do not follow on from ours, or a replay is
        needed; they are used up either way): then `catch_up`, which reads the log. An ending
        the events bring is stored at the next look (`time_passes`), not here."""
        if self.ended:
            return True
        new = self.store.heard_events(self.id, after=self.seq, account=self.account)
        if new is None or self._ran_past(new):
            return False
        self._take(new)
        return True

    def _ran_past(self, new: list[tuple[int, Event, datetime]]) -> bool:
        """Whether our engine's clock is past a (non-save-point) event among `new`."""
        clock = self.engine.state.clock - CLOCK_SLACK
        return any(event.at < clock and event.kind is not EventKind.TICK for _, event, _ in new)

    def _take(self, new: list[tuple[int, Event, datetime]], *, replayed: bool = False) -> None:
        """Apply events stored after ours (unless `replayed`: the engine has them), and follow
        the clock of the process that stored the newest."""
        if not replayed:
            clock = self.engine.state.clock - CLOCK_SLACK
            for _, event, _ in new:
                # A save point only lets time pass: one from before our clock (both processes
                # ran the clock past a step's end; the other stored it first) is where the
                # engine has been already, as a replay would take it. Not a reason to replay.
                if event.at >= clock:
                    self.engine.apply(event)  # checked by the process that stored it
                # Any process's save point is in the log: ours is due SAVE_EVERY after it.
                self.last_save = max(self.last_save, event.at)
        seq, newest, recorded_at = new[-1]
        self.seq = seq
        self.keeper = False  # another process stored the newest: it keeps the save points
        self._follow(newest.at, recorded_at, self.wall())

    def _follow(self, at: float, recorded_at: datetime, now: datetime) -> None:
        """Run our clock from session time `at`, stored at wall time `recorded_at`, to `now`."""
        gap = max(0.0, (now - recorded_at).total_seconds()) * self.speed
        self.offset, self.started = at + gap, self._monotonic()

    def record_now(
        self,
        kind: EventKind,
        *,
        region: str | None = None,
        value: int | None = None,
        age: float = 0.0,
        caught_up: bool = False,
        press_id: str | None = None,
    ) -> list[Cue]:
        """Catch up, then store and apply an event happening now (or `age` seconds ago, see
        `event`); retried if another process stores one at the same moment (each try checks
        the event against the newer state). `caught_up`: the caller has just caught up, so the
        first try does not read again. `press_id`: see `record`; on AlreadyStored the engine
        has read the log up to the stored press (its first try may have been stored although
        this process heard only that the commit broke)."""
        from backrub.store import AlreadyStored, OutOfDate

        for attempt in range(RETRIES):
            if attempt or not caught_up:
                self.catch_up()
            try:
                event = self.event(kind, region=region, value=value, age=age)
                return self.record(event, press_id=press_id)
            except OutOfDate:
                continue
            except AlreadyStored:
                self.catch_up()
                raise
        raise BackrubError("the session is busy with other devices; try again")

    def time_passes(self) -> list[Cue]:
        """Let the clock run; save a point when the step changes and every SAVE_EVERY seconds."""
        if self.engine.status.is_over:
            self.end_if_over()
            return []
        now = self.now()
        if self._ends_by(now):
            from backrub.store import OutOfDate

            try:
                # Checked, stored, then applied like any event: replays end here too.
                return self.record(Event(at=now, kind=EventKind.END))
            except OutOfDate:
                return []  # another process stored an event first; read it on catch-up
        before = self.engine.state.current
        cues = self.engine.advance(now)
        if self.engine.status.is_over:
            self.end_if_over()
            return cues
        after = self.engine.state.current
        changed = (before.id if before else None) != (after.id if after else None)
        # Paused too: the save points tell a process loading the session that someone is
        # running it, so it counts the pause so far as pause (see `join`).
        if changed or now - self.last_save >= self.save_every():
            from backrub.store import OutOfDate

            try:
                cues += self.record(Event(at=now, kind=EventKind.TICK))
            except OutOfDate:
                return cues  # another process saved first; its events are read on catch-up
            self.last_save = now
        return cues

    def save_every(self) -> float:
        """Session seconds after the last save point that the next one is due here."""
        return SAVE_EVERY if self.keeper else SAVE_EVERY + SAVE_GRACE

    def _ends_by(self, now: float) -> bool:
        """Would the session finish on its own by `now`? Found on a copy of the engine, made
        only when the step in hand ends by then (no session finishes in the middle of a step)."""
        state = self.engine.state
        if state.status is not SessionStatus.RUNNING or state.current is None:
            return False
        if now - state.clock < state.current.seconds - state.elapsed - CLOCK_SLACK:
            return False
        engine = self.engine
        # The plan, the atlas and the cue book never change: share them, copy the rest.
        shared = {id(engine.plan): engine.plan, id(engine.atlas): engine.atlas}
        shared[id(engine.book)] = engine.book
        trial = copy.deepcopy(engine, shared)
        trial.advance(now)
        return trial.status is SessionStatus.FINISHED

    def end_if_over(self) -> None:
        """Store the summary once the engine has finished or been stopped (only once)."""
        if self.ended or not self.engine.status.is_over:
            return
        ending: EndStatus = (
            "finished" if self.engine.status is SessionStatus.FINISHED else "stopped"
        )
        from backrub.store import StoreError

        try:
            self.store.end_session(self.id, ending, summarize(self.engine), account=self.account)
        except StoreError:
            # Another process ended it first (both replayed the same events: same ending).
            if self.store.session(self.id, account=self.account).running:
                raise
        self.ended = True


def _wall_now() -> datetime:
    return datetime.now(UTC)


def _replayed(
    store: Store, session_id: str, plan: Plan, account: int | None
) -> tuple[SessionEngine, int]:
    """The engine after every stored event of the session, and the last event's seq (0: none)."""
    numbered = store.numbered_events(session_id, account=account)
    engine = SessionEngine.replay(plan, (event for _, event in numbered))
    return engine, numbered[-1][0] if numbered else 0
