"""A session's events: appended one committed transaction each (the hot path, in event_log.py),
read back in order, and a press sent twice stored once.

On PostgreSQL `append_event` also NOTIFYs the other server processes (`EVENT_CHANNEL`), inside
its transaction: the server delivers the notification when, and only if, the event is committed,
so no process is told of an event that is not stored, and telling cannot fail after the commit.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime
from typing import cast

from pydantic import ValidationError

from backrub.session.events import Event, EventKind
from backrub.store import event_log
from backrub.store.base import StoreBase
from backrub.store.errors import AlreadyStored, OutOfDate, StoreError, StoreUnavailable
from backrub.store.event_log import Append, EventWriter, SqliteWriter, StoredPress
from backrub.store.failures import _is_duplicate
from backrub.store.group_commit import Queued
from backrub.store.records import PRESS_ID_PATTERN
from backrub.store.tables import PRESS_ID_LENGTH

_PRESS_ID = re.compile(PRESS_ID_PATTERN)


class EventMethods(StoreBase):
    """The store's event log (part of `Store`)."""

    def append_event(
        self,
        session_id: str,
        event: Event,
        *,
        after: int | None = None,
        account: int | None = None,
        press_id: str | None = None,
    ) -> int:
        """Store the next event of a running session; it is committed when this returns.

        Returns the event's sequence number, 1 for the first. Apply the event only afterwards.
        With `after` (the sequence number the caller's engine has seen last), the event is stored
        only if nothing was appended since: otherwise `OutOfDate` is raised and nothing changes,
        so a server process that shares the session with others catches up and tries again.

        `press_id`: the device's own id for this press, the same on every try of it. When the
        session holds it already (the device did not hear that the first try was stored),
        nothing is stored and `AlreadyStored` says the stored event's number, even once the
        session has ended; a StoreError when that id names another press (another kind, region
        or value). It is looked for before `after` is compared: a repeat is never out of date.
        """
        if not isinstance(event, Event):
            raise TypeError(f"expected an Event, got {type(event).__name__}")
        if press_id is not None:
            _press_id(press_id)
        try:
            if self._group is not None:
                # SQLite through its driver: written with the appends queued meanwhile, in one
                # transaction and one flush of the disk (group_commit.py).
                seq = self._group.append(Append(session_id, event, after, account, press_id))
            else:
                # A save point (a tick) need not wait for the disk; every other event does.
                with self._appending(flushed=event.kind is not EventKind.TICK) as log:
                    seq = self._append(log, session_id, event, after, account, press_id)
        except StoreError as error:
            # Two processes appending the same number at once: the unique (session, seq) says
            # which one won; for the other it is the same as having read an old `after`.
            if after is not None and _is_duplicate(error):
                raise OutOfDate(f"session {session_id} has events after {after}") from None
            raise
        return seq

    def _append(
        self,
        log: EventWriter,
        session_id: str,
        event: Event,
        after: int | None,
        account: int | None,
        press_id: str | None,
    ) -> int:
        """One append's steps inside its transaction (the hot path: no ORM, see event_log)."""
        state = log.session_state(session_id)
        if press_id is not None:
            self._check_owned(session_id, state, account)
            self._check_repeat(session_id, press_id, event, log.press(session_id, press_id))
        self._check_running(session_id, state, account)
        last = log.last_seq(session_id)
        if after is not None and last != after:
            raise OutOfDate(f"session {session_id} has events after {after}")
        seq = last + 1
        log.insert(session_id, seq, event, press_id)
        return seq

    def _write_batch(self, batch: list[Queued[Append]]) -> None:
        """The group commit's batch: one transaction, flushed unless it holds save points only.

        An append refused on its own is told why and the others are committed: its checks
        write nothing, and its one write is a single INSERT, which SQLite undoes alone when it
        fails (the transaction goes on). An error that ends the transaction (its commit, or
        one after which SQLite rolled it back: a full disk, an I/O error) is told to every
        append of the batch not refused already, and none of them is stored."""
        flushed = any(queued.job.event.kind is not EventKind.TICK for queued in batch)
        try:
            with self._appending(flushed=flushed) as log:
                driver = cast(SqliteWriter, log).driver
                for queued in batch:
                    try:
                        queued.seq = self._append(log, *queued.job)
                    except StoreError as error:
                        queued.error = error
                    except sqlite3.Error as error:
                        if not driver.in_transaction:
                            raise  # SQLite rolled the whole batch back
                        queued.error = self._failed_driver(error)
                        queued.error.__cause__ = error
        except StoreError as error:
            for queued in batch:
                if queued.error is None:
                    queued.error = _told_again(error)

    def check_press(
        self, session_id: str, press_id: str, event: Event, *, account: int | None = None
    ) -> None:
        """Raise `AlreadyStored` when the session holds this press already, as `append_event`
        does, without storing anything: for a caller that refuses the event before storing it
        (an engine whose session has ended since the press was stored) but owes a repeat the
        same answer as its first try."""
        _press_id(press_id)
        with self._looking() as connection:
            self._check_owned(session_id, event_log.session_state(connection, session_id), account)
            found = event_log.stored_press(connection, session_id, press_id)
        self._check_repeat(session_id, press_id, event, found)

    def events(self, session_id: str, *, after: int = 0, account: int | None = None) -> list[Event]:
        """A session's events in the order they were appended (only those after seq `after`)."""
        return [
            event for _, event in self.numbered_events(session_id, after=after, account=account)
        ]

    def numbered_events(
        self, session_id: str, *, after: int = 0, account: int | None = None
    ) -> list[tuple[int, Event]]:
        """(seq, event) pairs after seq `after`, in order: what another process has added."""
        timed = self.timed_events(session_id, after=after, account=account)
        return [(seq, event) for seq, event, _ in timed]

    def timed_events(
        self, session_id: str, *, after: int = 0, account: int | None = None
    ) -> list[tuple[int, Event, datetime]]:
        """(seq, event, recorded_at) after seq `after`, in order: with the wall-clock time
        (UTC) each was stored, which ties the session clock of the process that stored it to
        the wall clock every process shares."""
        with self._looking() as connection:
            state, rows = event_log.owned_rows_after(connection, session_id, after)
        self._check_owned(session_id, state, account)
        return [
            (seq, self._event(session_id, seq, at, kind, region, value), recorded_at)
            for seq, at, kind, region, value, recorded_at in rows
        ]

    def heard_events(
        self, session_id: str, *, after: int, account: int | None = None
    ) -> list[tuple[int, Event, datetime]] | None:
        """`timed_events` from what the notifier heard (heard.py), without the database; None
        when the heard events do not follow on from `after` (then read the log)."""
        return self.heard.after(session_id, after, account)

    def last_recorded_at(self, session_id: str, *, account: int | None = None) -> datetime | None:
        """When the session's newest event was stored (wall clock, UTC); None without events."""
        with self._looking() as connection:
            self._check_owned(session_id, event_log.session_state(connection, session_id), account)
            return event_log.newest_recorded_at(connection, session_id)

    def _check_owned(
        self, session_id: str, state: tuple[int | None, str] | None, account: int | None
    ) -> str:
        """The status of the owner's session (`event_log`'s owner and status), or "no session"
        (for someone else's too), like `_session_row` without reading the row and its plan."""
        if state is None or state[0] != account:
            raise StoreError(f"no session {session_id!r}", where=self.location)
        return state[1]

    def _check_running(
        self, session_id: str, state: tuple[int | None, str] | None, account: int | None
    ) -> None:
        """`_running_session` for the event log."""
        status = self._check_owned(session_id, state, account)
        if status != "running":
            raise StoreError(
                f"session {session_id} is {status}; it takes no more events or endings",
                where=self.location,
            )

    def _check_repeat(
        self, session_id: str, press_id: str, event: Event, stored: StoredPress | None
    ) -> None:
        """Nothing for a new press; AlreadyStored for the same press again; StoreError for an
        id that names another press (a device's bug: storing it would lose one of the two)."""
        if stored is None:
            return
        if (stored.kind, stored.region, stored.value) != (
            event.kind.value,
            event.region,
            event.value,
        ):
            raise StoreError(
                f"press id {press_id!r} already names another press of this session "
                f"(event {stored.seq}, {stored.kind}); send a new id with a new press",
                where="press_id",
            )
        raise AlreadyStored(
            f"press {press_id!r} is stored already (event {stored.seq} of session {session_id})",
            seq=stored.seq,
            where="press_id",
        )

    def _event(
        self,
        session_id: str,
        seq: int,
        at: float,
        kind: str,
        region: str | None,
        value: int | None,
    ) -> Event:
        try:
            return Event(at=at, kind=EventKind(kind), region=region, value=value)
        except (ValueError, ValidationError) as error:
            first = str(error).splitlines()[-1].strip()
            raise StoreError(
                f"event {seq} of session {session_id} cannot be read: {first}",
                where=self.location,
            ) from None


def _told_again(error: StoreError) -> StoreError:
    """The batch's error for one more of its appends: each press's thread raises its own."""
    if type(error) not in (StoreError, StoreUnavailable):
        return error
    again = type(error)(error.message, where=error.where)
    again.__cause__ = error.__cause__
    return again


def _press_id(press_id: str) -> str:
    if not isinstance(press_id, str) or not _PRESS_ID.fullmatch(press_id):
        raise StoreError(
            f"a press id is 1 to {PRESS_ID_LENGTH} letters, digits or . _ : -", where="press_id"
        )
    return press_id
