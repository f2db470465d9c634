"""The event log's hot path: each event committed before it is answered, without the ORM (on
SQLite, the events queued while a commit is in flight share the next one: group_commit.py).

Every live event goes through `Store.append_event`, so its statements are built once, here, and
each call only binds its values: no ORM Session, no identity map, no unit of work, and the
session row is checked by its owner and status alone (loading the whole row would decode the
plan's JSON on every event). Two writers do the work, with the same three steps:

- `CoreWriter`, any database: SQLAlchemy Core on one pooled connection.
- `SqliteWriter`, SQLite: the driver's own connection (taken from the same pool, so it has the
  durable pragmas) runs the statements SQLAlchemy compiled once for SQLite, which the driver
  keeps prepared. SQLAlchemy's per-statement bookkeeping costs several times SQLite's own work
  for a one-row insert, and a committed event should cost little more than the commit.

A press that carries its device's id is looked for first (the unique index on session and
press id answers at once): found, it is not stored again (`Store.append_event`).

Two statements look before the insert, on purpose: on PostgreSQL the first locks the session
row (`FOR UPDATE`, which serialises the appenders of one session) and the second, a statement of
its own, then sees every event committed while it waited; one statement would keep the snapshot
taken before the wait and miss them. On SQLite `BEGIN IMMEDIATE` serialises the writers.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy import Connection, Dialect, and_, bindparam, func, insert, select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from backrub.session.events import Event
from backrub.store.heard import details
from backrub.store.tables import Base, EventRow, SessionRow, utc_now

_EVENTS = Base.metadata.tables[EventRow.__tablename__]
_SESSIONS = Base.metadata.tables[SessionRow.__tablename__]
_INSERTED = ("session_id", "seq", "at", "kind", "region", "value", "recorded_at", "press_id")

# (account_id, status) of one session; the writer's form locks the row until the commit.
_SESSION_STATE = select(_SESSIONS.c.account_id, _SESSIONS.c.status).where(
    _SESSIONS.c.id == bindparam("session_id")
)
_SESSION_STATE_FOR_UPDATE = _SESSION_STATE.with_for_update()
_LAST_SEQ = select(func.max(_EVENTS.c.seq)).where(_EVENTS.c.session_id == bindparam("session_id"))
# (seq, kind, region, value) of the session's event stored with this press id.
_PRESS = select(_EVENTS.c.seq, _EVENTS.c.kind, _EVENTS.c.region, _EVENTS.c.value).where(
    _EVENTS.c.session_id == bindparam("session_id"), _EVENTS.c.press_id == bindparam("press_id")
)
_INSERT = insert(_EVENTS).values({name: bindparam(name) for name in _INSERTED})
# The owner and status of the session with its events after seq `after`, in one statement (a
# catch-up's read: one round trip, one snapshot); a session without such events gives one row
# whose event columns are NULL, and no session no row.
_OWNED_AFTER = (
    select(
        _SESSIONS.c.account_id,
        _SESSIONS.c.status,
        _EVENTS.c.seq,
        _EVENTS.c.at,
        _EVENTS.c.kind,
        _EVENTS.c.region,
        _EVENTS.c.value,
        _EVENTS.c.recorded_at,
    )
    .select_from(
        _SESSIONS.outerjoin(
            _EVENTS,
            and_(_EVENTS.c.session_id == _SESSIONS.c.id, _EVENTS.c.seq > bindparam("after")),
        )
    )
    .where(_SESSIONS.c.id == bindparam("session_id"))
    .order_by(_EVENTS.c.seq)
)
# PostgreSQL: the insert and its NOTIFY in one statement (one round trip, not two).
_INSERT_AND_NOTIFY = select(func.pg_notify(bindparam("channel"), bindparam("payload"))).select_from(
    _INSERT.returning(_EVENTS.c.seq).cte("inserted")
)
_NEWEST_RECORDED_AT = select(func.max(_EVENTS.c.recorded_at)).where(
    _EVENTS.c.session_id == bindparam("session_id")
)


class EventWriter(Protocol):
    """The steps of one append, inside a transaction the writer's owner commits."""

    def session_state(self, session_id: str) -> tuple[int | None, str] | None:
        """The session's owner (None: unowned) and status, locked until the commit; None when
        there is no such session."""

    def last_seq(self, session_id: str) -> int:
        """The sequence number of the session's newest event; 0 without events."""

    def press(self, session_id: str, press_id: str) -> StoredPress | None:
        """The session's event stored with this press id, or None."""

    def insert(
        self, session_id: str, seq: int, event: Event, press_id: str | None = None
    ) -> None: ...


class Append(NamedTuple):
    """One append as the group commit queues it (`Store.append_event`'s arguments)."""

    session_id: str
    event: Event
    after: int | None
    account: int | None
    press_id: str | None


class StoredPress(NamedTuple):
    """What a press id names in a session's log: its event's number and what was pressed."""

    seq: int
    kind: str
    region: str | None
    value: int | None


def _values(session_id: str, seq: int, event: Event, press_id: str | None = None) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "seq": seq,
        "at": event.at,
        "kind": event.kind.value,
        "region": event.region,
        "value": event.value,
        "recorded_at": utc_now(),
        "press_id": press_id,
    }


class CoreWriter:
    """The append's steps in SQLAlchemy Core, on a connection inside its transaction.

    With a `channel` (PostgreSQL), each insert also NOTIFYs "SESSION_ID SEQ" on it, which the
    server delivers when, and only if, the transaction commits."""

    def __init__(self, connection: Connection, channel: str | None = None) -> None:
        self.connection = connection
        self.channel = channel
        self.owner: int | None = None  # the session's, as read (and locked) by session_state

    def session_state(self, session_id: str) -> tuple[int | None, str] | None:
        state = session_state(self.connection, session_id, for_update=True)
        self.owner = None if state is None else state[0]
        return state

    def last_seq(self, session_id: str) -> int:
        found: int | None = self.connection.execute(_LAST_SEQ, {"session_id": session_id}).scalar()
        return found or 0

    def press(self, session_id: str, press_id: str) -> StoredPress | None:
        return stored_press(self.connection, session_id, press_id)

    def insert(self, session_id: str, seq: int, event: Event, press_id: str | None = None) -> None:
        values = _values(session_id, seq, event, press_id)
        if self.channel is None:
            self.connection.execute(_INSERT, values)
            return
        # The event itself too: a process that hears it need not read it back (store/heard.py).
        told = details(self.owner, event, values["recorded_at"])
        values.update(channel=self.channel, payload=f"{session_id} {seq} {told}")
        self.connection.execute(_INSERT_AND_NOTIFY, values)


class _Compiled:
    """A statement compiled once for SQLite: its SQL and the order of its parameters."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.sql = compiled.string
        self.names = tuple(compiled.positiontup or ())

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(values[name] for name in self.names)


class SqliteStatements:
    """The append's statements compiled for one SQLite dialect (once per store)."""

    def __init__(self, dialect: Dialect) -> None:
        self.session_state = _Compiled(_SESSION_STATE, dialect)
        self.last_seq = _Compiled(_LAST_SEQ, dialect)
        self.press = _Compiled(_PRESS, dialect)
        self.insert = _Compiled(_INSERT, dialect)
        # The stored form of the UTC time, as SQLAlchemy writes it for this column.
        process = _EVENTS.c.recorded_at.type.dialect_impl(dialect).bind_processor(dialect)
        self.recorded_at: Callable[[Any], Any] = process or (lambda value: value)

    @contextmanager
    def transaction(
        self, driver: sqlite3.Connection, *, flushed: bool = True
    ) -> Iterator[SqliteWriter]:
        """One `BEGIN IMMEDIATE` transaction, committed on a normal exit, else rolled back.
        `flushed=False`: committed with `synchronous=NORMAL` (in WAL mode the commit is in the
        log but not yet flushed; the next FULL commit flushes it), then FULL again."""
        if not flushed:
            driver.execute("PRAGMA synchronous=NORMAL")
        try:
            driver.execute("BEGIN IMMEDIATE")
            try:
                yield SqliteWriter(driver, self)
                driver.execute("COMMIT")
            except BaseException:
                # The error that got here is the one to report; a rollback that fails too
                # leaves the connection to the pool, whose own rollback on return cleans it up
                # or drops it.
                with contextlib.suppress(sqlite3.Error):
                    if driver.in_transaction:
                        driver.rollback()
                raise
        finally:
            if not flushed:
                driver.execute("PRAGMA synchronous=FULL")


class SqliteWriter:
    """The append's steps through the sqlite3 driver, inside `SqliteStatements.transaction`."""

    def __init__(self, driver: sqlite3.Connection, statements: SqliteStatements) -> None:
        self.driver = driver
        self.statements = statements

    def session_state(self, session_id: str) -> tuple[int | None, str] | None:
        compiled = self.statements.session_state
        found = self.driver.execute(
            compiled.sql, compiled.parameters({"session_id": session_id})
        ).fetchone()
        return None if found is None else (found[0], found[1])

    def last_seq(self, session_id: str) -> int:
        compiled = self.statements.last_seq
        found = self.driver.execute(
            compiled.sql, compiled.parameters({"session_id": session_id})
        ).fetchone()
        return int(found[0] or 0) if found is not None else 0

    def press(self, session_id: str, press_id: str) -> StoredPress | None:
        compiled = self.statements.press
        found = self.driver.execute(
            compiled.sql, compiled.parameters({"session_id": session_id, "press_id": press_id})
        ).fetchone()
        return None if found is None else StoredPress(*found)

    def insert(self, session_id: str, seq: int, event: Event, press_id: str | None = None) -> None:
        values = _values(session_id, seq, event, press_id)
        values["recorded_at"] = self.statements.recorded_at(values["recorded_at"])
        compiled = self.statements.insert
        self.driver.execute(compiled.sql, compiled.parameters(values))


def session_state(
    connection: Connection, session_id: str, *, for_update: bool = False
) -> tuple[int | None, str] | None:
    """The session's owner (None: unowned) and status, or None when there is no such session."""
    statement = _SESSION_STATE_FOR_UPDATE if for_update else _SESSION_STATE
    found = connection.execute(statement, {"session_id": session_id}).first()
    return None if found is None else (found[0], found[1])


def stored_press(connection: Connection, session_id: str, press_id: str) -> StoredPress | None:
    found = connection.execute(_PRESS, {"session_id": session_id, "press_id": press_id}).first()
    return None if found is None else StoredPress(*found)


def owned_rows_after(
    connection: Connection, session_id: str, after: int
) -> tuple[tuple[int | None, str] | None, list[Any]]:
    """The session's owner and status (None: no such session), and (seq, at, kind, region,
    value, recorded_at) of its events after seq `after`, in order: one statement."""
    rows = connection.execute(_OWNED_AFTER, {"session_id": session_id, "after": after}).all()
    if not rows:
        return None, []
    return (rows[0][0], rows[0][1]), [row[2:] for row in rows if row[2] is not None]


def newest_recorded_at(connection: Connection, session_id: str) -> datetime | None:
    found: datetime | None = connection.execute(
        _NEWEST_RECORDED_AT, {"session_id": session_id}
    ).scalar()
    return found
