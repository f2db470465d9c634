"""The store's ground floor: the transactions every public method runs in, and the checks on
ownership and stored values that profiles, sessions, events and accounts share.

Writes are serialised (a lock in this process, `BEGIN IMMEDIATE` across processes on SQLite) and
each public method is one transaction that has committed when it returns. On PostgreSQL the
event log's appends take no lock in the process: the database serialises each session's own; on
SQLite the appends queued meanwhile are committed together (group_commit.py).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self, TypeVar, cast

from sqlalchemy import ColumnElement, Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import InstrumentedAttribute, Session

from backrub.store.engine import SQLITE_BEGIN, is_postgresql
from backrub.store.errors import StoreError, StoreUnavailable
from backrub.store.event_log import Append, CoreWriter, EventWriter, SqliteStatements
from backrub.store.failures import _SQLITE_PASSING, UnstorableText, _unavailable
from backrub.store.group_commit import GroupCommit, Queued
from backrub.store.heard import HeardEvents
from backrub.store.login_cache import LoginCache
from backrub.store.tables import AccountRow, ProfileRow, SessionRow

# Ids are 32-bit integers in PostgreSQL (64-bit in SQLite, whose driver raises OverflowError
# beyond): an id outside this range names no row, and is answered like a missing one on both.
ID_MIN, ID_MAX = -(2**31), 2**31 - 1

NUL = "\x00"

# The PostgreSQL channel on which each stored event is announced as "SESSION_ID SEQ".
EVENT_CHANNEL = "backrub_session"


class StoreBase:
    """The database, its engine and its transactions: what every part of `Store` builds on."""

    def __init__(self, engine: Engine, location: str) -> None:
        """Wrap an engine whose schema is already at head; `Store.open` is the way in."""
        self.location = location
        self._engine = engine
        self._writer = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        self._write_lock = threading.Lock()
        # PostgreSQL reads run without a transaction: each is one statement, which sees what
        # was committed when it began, as in a READ COMMITTED transaction, without the BEGIN
        # and ROLLBACK round trips around it.
        self._reader = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if is_postgresql(engine.url)
            else engine
        )
        self._closed = False
        self._announce = is_postgresql(engine.url)  # NOTIFY each event (see events.py)
        # Log-ins read here, kept while the web's notifier hears every ending (login_cache.py).
        self.logins = LoginCache()
        # Other processes' events as their NOTIFY told them (heard.py), filled by the notifier.
        self.heard = HeardEvents()
        # The event log's statements, compiled once, when the driver is Python's sqlite3.
        self._sqlite = (
            SqliteStatements(engine.dialect) if engine.dialect.driver == "pysqlite" else None
        )
        # There, appends are committed in groups: one flush of the disk for many presses.
        self._group = GroupCommit(self._write_batch) if self._sqlite is not None else None

    def _write_batch(self, batch: list[Queued[Append]]) -> None:
        """Write and commit a group commit's batch (events.py)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release every connection; the store cannot be used afterwards (closing twice is fine)."""
        if not self._closed:
            self._closed = True
            self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.location!r})"

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        self._check_open()
        try:
            with Session(self._engine) as db:
                yield db
        except SQLAlchemyError as error:
            raise self._failed(error) from error

    @contextmanager
    def _looking(self) -> Iterator[Connection]:
        """A Core connection for reading, without the ORM's Session (the event log's reads)."""
        self._check_open()
        try:
            with self._reader.connect() as connection:
                yield connection
        except SQLAlchemyError as error:
            raise self._failed(error) from error

    @contextmanager
    def _appending(self, *, flushed: bool = True) -> Iterator[EventWriter]:
        """One append's transaction, committed on a normal exit, rolled back on any error: on
        SQLite through the driver (statements compiled once), elsewhere in SQLAlchemy Core.

        `flushed=False` (a save point): the commit does not wait for the disk. The log is
        written in order, so the next flushed commit (any press) carries it to the disk too;
        a crash can lose only save points stored after the last press, and time a crash
        loses is never counted anyway (`LiveRun.join`). Half the disk flushes of a busy evening."""
        self._check_open()
        channel = EVENT_CHANNEL if self._announce else None
        try:
            if self._announce:
                # PostgreSQL: no lock in this process. The session row's FOR UPDATE serialises
                # the appenders of one session (in every process); other sessions' appends,
                # each waiting for its own commit, go on side by side.
                with self._writer.begin() as connection:
                    if not flushed:
                        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                    yield CoreWriter(connection, channel)
                return
            with self._write_lock:
                if self._sqlite is None:
                    with self._writer.begin() as connection:
                        yield CoreWriter(connection, None)
                    return
                pooled = self._engine.raw_connection()  # with the durable pragmas
                try:
                    driver = cast(sqlite3.Connection, pooled.driver_connection)
                    with self._sqlite.transaction(driver, flushed=flushed) as writer:
                        yield writer
                finally:
                    pooled.close()  # back to the pool
        except SQLAlchemyError as error:
            raise self._failed(error) from error
        except sqlite3.Error as error:
            raise self._failed_driver(error) from error

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """One write transaction, committed on a normal exit, rolled back on any error."""
        self._check_open()
        try:
            with self._write_lock, Session(self._writer) as db, db.begin():
                yield db
        except SQLAlchemyError as error:
            raise self._failed(error) from error

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed", where=self.location)

    def _failed_driver(self, error: sqlite3.Error) -> StoreError:
        """`_failed` for an error straight from the sqlite3 driver (the event log's path)."""
        reason = str(error).strip().split("\n", 1)[0]
        name = getattr(error, "sqlite_errorname", "")
        if isinstance(name, str) and name.startswith(_SQLITE_PASSING):
            return StoreUnavailable(f"the database is unavailable: {reason}", where=self.location)
        return StoreError(f"database error: {reason}", where=self.location)

    def _failed(self, error: SQLAlchemyError) -> StoreError:
        # psycopg's messages run over several lines (DETAIL, HINT, a caret under the SQL): one
        # line is enough to say what went wrong, and the rest may quote stored values.
        reason = str(getattr(error, "orig", None) or error).strip().split("\n", 1)[0]
        if _unavailable(error):
            return StoreUnavailable(f"the database is unavailable: {reason}", where=self.location)
        return StoreError(f"database error: {reason}", where=self.location)

    def _account_row(self, db: Session, account_id: int) -> AccountRow:
        row = _get(db, AccountRow, account_id)
        if row is None:
            raise StoreError(f"no account {account_id!r}", where=self.location)
        return row


def _owned_by(
    column: InstrumentedAttribute[int | None], account: int | None
) -> ColumnElement[bool]:
    """The SQL condition "owned by `account`": NULL for the local data, else that account."""
    return column.is_(None) if account is None else column == account


_Owned = TypeVar("_Owned", ProfileRow, SessionRow)

_Row = TypeVar("_Row", AccountRow, ProfileRow)


def _get(db: Session, table: type[_Row], row_id: int, *, for_update: bool = False) -> _Row | None:
    """The row with this integer id, or None; an id no column can hold is not looked up."""
    if not ID_MIN <= row_id <= ID_MAX:
        return None
    return db.get(table, row_id, with_for_update=for_update)


def _owned_row(row: _Owned | None, account: int | None) -> _Owned | None:
    """The row if it belongs to `account` (None: unowned), else None, as if it did not exist."""
    if row is None or row.account_id != account:
        return None
    return row


def _storable(text: str, field: str) -> str:
    if NUL in text:
        raise UnstorableText("must not contain the NUL character (\\x00)", where=field)
    return text


def _json_object(value: dict[str, Any], what: str) -> dict[str, Any]:
    """Refuse now, with a clear message, what the JSON column would refuse at commit."""
    if not isinstance(value, dict):
        raise StoreError(f"{what} must be a JSON object, not {type(value).__name__}")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise StoreError(f"{what} cannot be stored as JSON: {error}") from None
    return value
