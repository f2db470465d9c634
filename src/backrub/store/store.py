"""The Store: every database call in backrub goes through this one class.

Writes are serialised (a lock in this process, `BEGIN IMMEDIATE` across processes on SQLite) and
each public method is one transaction that has committed when it returns. That is what makes the
event log crash-safe: the caller applies an event only after `append_event` returns, so a kill at
any instant leaves either the event stored or nothing to undo.

On PostgreSQL `append_event` also NOTIFYs the other server processes (`EVENT_CHANNEL`), inside
its transaction: the server delivers the notification when, and only if, the event is committed,
so no process is told of an event that is not stored, and telling cannot fail after the commit.

Ownership: every method on profiles, sessions and events takes `account`. None (the default)
means the local, unowned rows; an account id means that account's rows only. A row that belongs
to someone else is treated exactly like a missing one, with the same error and message, so no
reply can tell that it exists.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar, cast

from pydantic import ValidationError
from sqlalchemy import (
    URL,
    ColumnElement,
    Connection,
    Engine,
    ScalarSelect,
    Select,
    delete,
    func,
    make_url,
    select,
)
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import InstrumentedAttribute, Session

from backrub.planner.plan import PLAN_SCHEMA
from backrub.session.events import Event, EventKind
from backrub.store import event_log
from backrub.store.engine import SQLITE_BEGIN, is_postgresql, sqlite_file, writer_engine
from backrub.store.errors import (
    AlreadyStored,
    EmailTaken,
    OutOfDate,
    StoreError,
    StoreUnavailable,
)
from backrub.store.event_log import CoreWriter, EventWriter, SqliteStatements, StoredPress
from backrub.store.location import DATABASE_URL_VARIABLE, database_url
from backrub.store.records import (
    END_STATUSES,
    PRESS_ID_PATTERN,
    SESSION_STATUSES,
    AccountRecord,
    Credentials,
    EndStatus,
    LoginRecord,
    ProfileRecord,
    SessionRecord,
)
from backrub.store.schema import head_revision, survey, upgrade
from backrub.store.tables import (
    CSRF_TOKEN_LENGTH,
    EMAIL_LENGTH,
    FAILURE_KEY_LENGTH,
    NAME_LENGTH,
    PASSWORD_HASH_LENGTH,
    PRESS_ID_LENGTH,
    TOKEN_HASH_LENGTH,
    AccountRow,
    EventRow,
    LoginFailureRow,
    LoginRow,
    ProfileRow,
    SessionRow,
    utc_now,
)

MIN_PREFIX = 4
_SESSION_ID = re.compile(r"[0-9a-f]{4,32}")
_TOKEN_HASH = re.compile(r"[0-9a-f]{64}")
_PRESS_ID = re.compile(PRESS_ID_PATTERN)
EXPORT_FORMAT = "backrub.account-export"
EXPORT_VERSION = 1
EMAIL_TAKEN = "an account with this e-mail address already exists"
# Ids are 32-bit integers in PostgreSQL (64-bit in SQLite, whose driver raises OverflowError
# beyond): an id outside this range names no row, and is answered like a missing one on both.
ID_MIN, ID_MAX = -(2**31), 2**31 - 1
NUL = "\x00"
# The PostgreSQL channel on which each stored event is announced as "SESSION_ID SEQ".
EVENT_CHANNEL = "backrub_session"


class UnstorableText(StoreError):
    """Text with a NUL character: PostgreSQL cannot keep it in a text column, so neither backend
    takes it (SQLite could, but both must answer alike). `where` names the field it came in."""


class Store:
    """Profiles, sessions and their events in one database (SQLite file or any SQLAlchemy URL).

    Use `Store.open(...)`, preferably as a context manager; `close()` releases every connection.
    """

    def __init__(self, engine: Engine, location: str) -> None:
        """Wrap an engine whose schema is already at head; `Store.open` is the way in."""
        self.location = location
        self._engine = engine
        self._writer = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        self._write_lock = threading.Lock()
        self._closed = False
        self._announce = is_postgresql(engine.url)  # NOTIFY each event (see the docstring)
        # The event log's statements, compiled once, when the driver is Python's sqlite3.
        self._sqlite = (
            SqliteStatements(engine.dialect) if engine.dialect.driver == "pysqlite" else None
        )

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """Open the database at `url` (default: `location.database_url()`), upgrading its schema.

        Refuses, with StoreError and without changing a byte, a database written by a newer
        backrub, a file that is not a SQLite database or is damaged, and someone else's tables.
        """
        from_environment = url is None and bool(os.environ.get(DATABASE_URL_VARIABLE, "").strip())
        parsed, location = _parse(
            url if url is not None else database_url(),
            DATABASE_URL_VARIABLE if from_environment else None,
        )
        try:
            # Builds the dialect and loads the driver; connects to nothing yet.
            engine = writer_engine(parsed)
        except (ArgumentError, NoSuchModuleError, ImportError) as error:
            raise StoreError(f"cannot use this database URL: {error}", where=location) from None
        try:
            if survey(parsed, location) != (head_revision(),):
                upgrade(engine, location)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, location)

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

    # Profiles

    def create_profile(self, name: str, data: dict[str, Any], *, account: int | None = None) -> int:
        """Save a new receiver profile under a name unique to its owner; returns its id."""
        name = _profile_name(name)
        data = _json_object(data, "profile data")
        taken_message = f"a profile named {name!r} already exists"
        try:
            with self._writing() as db:
                taken = select(ProfileRow.id).where(
                    ProfileRow.name == name, _owned_by(ProfileRow.account_id, account)
                )
                if db.scalar(taken) is not None:
                    raise StoreError(taken_message, where=self.location)
                if account is not None:
                    self._account_row(db, account)
                row = ProfileRow(name=name, data=data, account_id=account)
                db.add(row)
                db.flush()
                return row.id
        except StoreError as error:
            if _is_duplicate(error):  # another process saved the same name a moment ago
                raise StoreError(taken_message, where=self.location) from None
            raise

    def profile(self, id_or_name: int | str, *, account: int | None = None) -> ProfileRecord:
        """The owner's profile with this id (an int) or this name (a str)."""
        with self._reading() as db:
            if isinstance(id_or_name, int):
                row = _owned_row(_get(db, ProfileRow, id_or_name), account)
            elif NUL in id_or_name:
                row = None  # no profile has such a name (and PostgreSQL refuses to look)
            else:
                row = db.scalar(
                    select(ProfileRow).where(
                        ProfileRow.name == id_or_name, _owned_by(ProfileRow.account_id, account)
                    )
                )
            if row is None:
                raise StoreError(f"no profile {id_or_name!r}", where=self.location)
            return _profile_record(row)

    def profiles(self, *, account: int | None = None) -> list[ProfileRecord]:
        """Every profile of the owner, by name."""
        with self._reading() as db:
            rows = db.scalars(
                select(ProfileRow)
                .where(_owned_by(ProfileRow.account_id, account))
                .order_by(ProfileRow.name, ProfileRow.id)
            )
            return [_profile_record(row) for row in rows]

    def update_profile(
        self, profile_id: int, data: dict[str, Any], *, account: int | None = None
    ) -> None:
        """Replace a profile's saved fields."""
        data = _json_object(data, "profile data")
        with self._writing() as db:
            row = _owned_row(_get(db, ProfileRow, profile_id, for_update=True), account)
            if row is None:
                raise StoreError(f"no profile {profile_id!r}", where=self.location)
            row.data = data

    # Sessions

    def start_session(
        self,
        plan_json: dict[str, Any],
        profile_id: int | None = None,
        *,
        account: int | None = None,
    ) -> str:
        """Record a new running session for this plan (`Plan.to_json()`); returns its id.

        The profile, when given, must belong to the same owner."""
        plan_json = _json_object(plan_json, "the plan")
        if plan_json.get("schema") != PLAN_SCHEMA:
            raise StoreError(f'not a backrub plan (expected "schema": "{PLAN_SCHEMA}")')
        session_id = uuid.uuid4().hex
        with self._writing() as db:
            if (
                profile_id is not None
                and _owned_row(_get(db, ProfileRow, profile_id), account) is None
            ):
                raise StoreError(f"no profile {profile_id!r}", where=self.location)
            if account is not None:
                self._account_row(db, account)
            db.add(
                SessionRow(
                    id=session_id,
                    profile_id=profile_id,
                    account_id=account,
                    status="running",
                    plan=plan_json,
                )
            )
        return session_id

    def session(self, session_id: str, *, account: int | None = None) -> SessionRecord:
        with self._reading() as db:
            found = db.execute(_sessions_query(account).where(SessionRow.id == session_id)).first()
            if found is None:
                raise StoreError(f"no session {session_id!r}", where=self.location)
            return _session_record(found[0], found[1])

    def find_session(self, prefix: str, *, account: int | None = None) -> SessionRecord:
        """The owner's one session whose id starts with `prefix` (at least 4 characters)."""
        wanted = prefix.strip().lower()
        if len(wanted) < MIN_PREFIX:
            raise StoreError(
                f"{prefix!r} is too short; give at least {MIN_PREFIX} characters of a session id"
            )
        if not _SESSION_ID.fullmatch(wanted):
            raise StoreError(f"{prefix!r} is not a session id (up to 32 characters 0-9, a-f)")
        with self._reading() as db:
            ids = db.scalars(
                select(SessionRow.id)
                .where(
                    SessionRow.id.startswith(wanted, autoescape=True),
                    _owned_by(SessionRow.account_id, account),
                )
                .order_by(SessionRow.id)
                .limit(4)
            ).all()
        if not ids:
            raise StoreError(f"no session id starts with {wanted!r}", where=self.location)
        if len(ids) > 1:
            shown = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
            raise StoreError(
                f"{wanted!r} matches more than one session ({shown}); give more of the id",
                where=self.location,
            )
        return self.session(ids[0], account=account)

    def sessions(
        self, limit: int = 50, *, profile_id: int | None = None, account: int | None = None
    ) -> list[SessionRecord]:
        """The owner's latest sessions, newest first; only one receiver's with `profile_id`."""
        if limit < 1:
            raise StoreError(f"limit {limit} is out of range; expected at least 1")
        query = _sessions_query(account).order_by(
            SessionRow.created_at.desc(), SessionRow.id.desc()
        )
        if profile_id is not None:
            if not ID_MIN <= profile_id <= ID_MAX:
                return []  # no profile has this id
            query = query.where(SessionRow.profile_id == profile_id)
        with self._reading() as db:
            return [_session_record(row, count) for row, count in db.execute(query.limit(limit))]

    def last_unfinished(self, *, account: int | None = None) -> SessionRecord | None:
        """The owner's newest session still running (to offer to resume it), or None."""
        query = (
            _sessions_query(account)
            .where(SessionRow.status == "running")
            .order_by(SessionRow.created_at.desc(), SessionRow.id.desc())
            .limit(1)
        )
        with self._reading() as db:
            found = db.execute(query).first()
            return None if found is None else _session_record(found[0], found[1])

    def end_session(
        self,
        session_id: str,
        status: EndStatus,
        summary: dict[str, Any],
        *,
        account: int | None = None,
    ) -> None:
        """Mark a running session finished or stopped, with its summary; it takes no more events."""
        if status not in END_STATUSES:
            raise StoreError(f"{status!r} is not how a session ends; expected finished or stopped")
        summary = _json_object(summary, "the summary")
        with self._writing() as db:
            row = self._running_session(db, session_id, account)
            row.status = status
            row.ended_at = utc_now()
            row.summary = summary

    # Events

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
            # The hot path of every live session: no ORM (see event_log).
            with self._appending() as log:
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
        except StoreError as error:
            # Two processes appending the same number at once: the unique (session, seq) says
            # which one won; for the other it is the same as having read an old `after`.
            if after is not None and _is_duplicate(error):
                raise OutOfDate(f"session {session_id} has events after {after}") from None
            raise
        return seq

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
            self._check_owned(session_id, event_log.session_state(connection, session_id), account)
            rows = event_log.rows_after(connection, session_id, after)
        return [
            (seq, self._event(session_id, seq, at, kind, region, value), recorded_at)
            for seq, at, kind, region, value, recorded_at in rows
        ]

    def last_recorded_at(self, session_id: str, *, account: int | None = None) -> datetime | None:
        """When the session's newest event was stored (wall clock, UTC); None without events."""
        with self._looking() as connection:
            self._check_owned(session_id, event_log.session_state(connection, session_id), account)
            return event_log.newest_recorded_at(connection, session_id)

    # Accounts (hosted mode)

    def create_account(self, email: str, password_hash: str) -> int:
        """A new account; raises EmailTaken (and changes nothing) when the e-mail has one.

        The e-mail is stored lower-cased; checking its form and the password is the caller's
        job (`backrub.web.passwords`), the store only keeps the hash it is given."""
        email = _email(email)
        _check_password_hash(password_hash)
        try:
            with self._writing() as db:
                if db.scalar(select(AccountRow.id).where(AccountRow.email == email)) is not None:
                    raise EmailTaken(EMAIL_TAKEN, where="email")
                row = AccountRow(email=email, password_hash=password_hash)
                db.add(row)
                db.flush()
                return row.id
        except StoreError as error:
            if _is_duplicate(error):  # another process signed up with it a moment ago
                raise EmailTaken(EMAIL_TAKEN, where="email") from None
            raise

    def account(self, account_id: int) -> AccountRecord:
        with self._reading() as db:
            return _account_record(self._account_row(db, account_id))

    def credentials(self, email: str) -> Credentials | None:
        """The account and password hash for a log-in with this e-mail; None if there is none."""
        try:
            email = _email(email)
        except StoreError:
            return None
        with self._reading() as db:
            row = db.scalar(select(AccountRow).where(AccountRow.email == email))
            if row is None:
                return None
            return Credentials(account_id=row.id, email=row.email, password_hash=row.password_hash)

    def set_password_hash(self, account_id: int, password_hash: str) -> None:
        """Replace the hash (after a successful log-in when the parameters have changed)."""
        _check_password_hash(password_hash)
        with self._writing() as db:
            self._account_row(db, account_id).password_hash = password_hash

    def create_login(
        self, account_id: int, token_hash: str, csrf_token: str, expires_at: datetime
    ) -> None:
        """Remember a logged-in browser by the sha256 (hex) of its cookie's token."""
        _check_token_hash(token_hash)
        if not csrf_token or len(csrf_token) > CSRF_TOKEN_LENGTH:
            raise StoreError(f"a CSRF token has 1 to {CSRF_TOKEN_LENGTH} characters")
        with self._writing() as db:
            self._account_row(db, account_id)
            db.add(
                LoginRow(
                    token_hash=token_hash,
                    account_id=account_id,
                    csrf_token=csrf_token,
                    expires_at=expires_at,
                )
            )

    def login(self, token_hash: str) -> LoginRecord | None:
        """The log-in with this token hash, expired or not (the caller decides); None if none."""
        if not _TOKEN_HASH.fullmatch(token_hash):
            return None
        with self._reading() as db:
            found = db.execute(
                select(LoginRow, AccountRow.email)
                .join(AccountRow, AccountRow.id == LoginRow.account_id)
                .where(LoginRow.token_hash == token_hash)
            ).first()
            if found is None:
                return None
            row, email = found
            return LoginRecord(
                token_hash=row.token_hash,
                account_id=row.account_id,
                email=email,
                csrf_token=row.csrf_token,
                created_at=row.created_at,
                expires_at=row.expires_at,
            )

    def delete_login(self, token_hash: str) -> None:
        """Forget a log-in (log-out, or expired); nothing happens when there is none."""
        with self._writing() as db:
            db.execute(delete(LoginRow).where(LoginRow.token_hash == token_hash))

    def delete_expired_logins(self, now: datetime | None = None) -> int:
        """Forget every log-in that has expired; returns how many."""
        moment = now or utc_now()
        with self._writing() as db:
            gone = db.scalars(
                delete(LoginRow).where(LoginRow.expires_at <= moment).returning(LoginRow.token_hash)
            ).all()
            return len(gone)

    def record_login_failure(
        self, *keys: str, at: datetime | None = None, forget_before: datetime | None = None
    ) -> None:
        """Count a failed log-in under each key; rows older than `forget_before` are dropped."""
        moment = at or utc_now()
        for key in keys:
            _failure_key(key)
        with self._writing() as db:
            if forget_before is not None:
                db.execute(delete(LoginFailureRow).where(LoginFailureRow.at < forget_before))
            db.add_all(LoginFailureRow(key=key, at=moment) for key in keys)

    def login_failures(self, key: str, *, since: datetime) -> list[datetime]:
        """When the failures under this key happened since `since`, oldest first."""
        with self._reading() as db:
            return list(
                db.scalars(
                    select(LoginFailureRow.at)
                    .where(LoginFailureRow.key == _failure_key(key), LoginFailureRow.at >= since)
                    .order_by(LoginFailureRow.at)
                )
            )

    def clear_login_failures(self, key: str) -> None:
        with self._writing() as db:
            db.execute(delete(LoginFailureRow).where(LoginFailureRow.key == _failure_key(key)))

    def export_account(self, account_id: int) -> dict[str, Any]:
        """Everything the account owns, as JSON-able data: the account (without its password
        hash), its profiles, and its sessions with their plans, summaries and events."""
        with self._reading() as db:
            account = self._account_row(db, account_id)
            profiles = db.scalars(
                select(ProfileRow)
                .where(ProfileRow.account_id == account_id)
                .order_by(ProfileRow.id)
            ).all()
            sessions = db.scalars(
                select(SessionRow)
                .where(SessionRow.account_id == account_id)
                .order_by(SessionRow.created_at, SessionRow.id)
            ).all()
            events: dict[str, list[dict[str, Any]]] = {row.id: [] for row in sessions}
            rows = db.scalars(
                select(EventRow)
                .join(SessionRow, SessionRow.id == EventRow.session_id)
                .where(SessionRow.account_id == account_id)
                .order_by(EventRow.session_id, EventRow.seq)
            )
            for event in rows:
                events[event.session_id].append(
                    {
                        "seq": event.seq,
                        "at": event.at,
                        "kind": event.kind,
                        "region": event.region,
                        "value": event.value,
                        "recorded_at": event.recorded_at.isoformat(),
                    }
                )
            return {
                "format": EXPORT_FORMAT,
                "version": EXPORT_VERSION,
                "exported_at": utc_now().isoformat(),
                "account": {
                    "id": account.id,
                    "email": account.email,
                    "created_at": account.created_at.isoformat(),
                },
                "profiles": [
                    {
                        "id": row.id,
                        "name": row.name,
                        "created_at": row.created_at.isoformat(),
                        "data": row.data,
                    }
                    for row in profiles
                ],
                "sessions": [
                    {
                        "id": row.id,
                        "profile_id": row.profile_id,
                        "created_at": row.created_at.isoformat(),
                        "status": row.status,
                        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
                        "plan": row.plan,
                        "summary": row.summary,
                        "events": events[row.id],
                    }
                    for row in sessions
                ],
            }

    def delete_account(self, account_id: int) -> None:
        """Delete the account and everything it owns, in one transaction.

        The foreign keys cascade, but every table is also emptied of its rows explicitly, so a
        database whose foreign keys are not enforced (SQLite without the pragma) is left clean."""
        with self._writing() as db:
            account = self._account_row(db, account_id)
            owned_sessions = select(SessionRow.id).where(SessionRow.account_id == account_id)
            db.execute(delete(EventRow).where(EventRow.session_id.in_(owned_sessions)))
            db.execute(delete(SessionRow).where(SessionRow.account_id == account_id))
            db.execute(delete(ProfileRow).where(ProfileRow.account_id == account_id))
            db.execute(delete(LoginRow).where(LoginRow.account_id == account_id))
            db.execute(
                delete(LoginFailureRow).where(LoginFailureRow.key == f"email:{account.email}")
            )
            db.execute(delete(AccountRow).where(AccountRow.id == account_id))

    # Private helpers

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
            with self._engine.connect() as connection:
                yield connection
        except SQLAlchemyError as error:
            raise self._failed(error) from error

    @contextmanager
    def _appending(self) -> Iterator[EventWriter]:
        """One append's transaction, committed on a normal exit, rolled back on any error: on
        SQLite through the driver (statements compiled once), elsewhere in SQLAlchemy Core."""
        self._check_open()
        channel = EVENT_CHANNEL if self._announce else None
        try:
            with self._write_lock:
                if self._sqlite is None:
                    with self._writer.begin() as connection:
                        yield CoreWriter(connection, channel)
                    return
                pooled = self._engine.raw_connection()  # with the durable pragmas
                try:
                    driver = cast(sqlite3.Connection, pooled.driver_connection)
                    with self._sqlite.transaction(driver) as writer:
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

    def _session_row(
        self, db: Session, session_id: str, account: int | None, *, for_update: bool = False
    ) -> SessionRow:
        """The owner's session, or "no session" (for someone else's too)."""
        row = _owned_row(db.get(SessionRow, session_id, with_for_update=for_update), account)
        if row is None:
            raise StoreError(f"no session {session_id!r}", where=self.location)
        return row

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

    def _running_session(self, db: Session, session_id: str, account: int | None) -> SessionRow:
        row = self._session_row(db, session_id, account, for_update=True)
        if row.status != "running":
            raise StoreError(
                f"session {session_id} is {row.status}; it takes no more events or endings",
                where=self.location,
            )
        return row

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


def _press_id(press_id: str) -> str:
    if not isinstance(press_id, str) or not _PRESS_ID.fullmatch(press_id):
        raise StoreError(
            f"a press id is 1 to {PRESS_ID_LENGTH} letters, digits or . _ : -", where="press_id"
        )
    return press_id


def _email(email: str) -> str:
    cleaned = email.strip().lower()
    if not cleaned or len(cleaned) > EMAIL_LENGTH:
        raise StoreError(f"an e-mail address has 1 to {EMAIL_LENGTH} characters", where="email")
    return _storable(cleaned, "email")


def _check_password_hash(password_hash: str) -> None:
    if not password_hash or len(password_hash) > PASSWORD_HASH_LENGTH:
        raise StoreError(f"a password hash is required (at most {PASSWORD_HASH_LENGTH} characters)")


def _check_token_hash(token_hash: str) -> None:
    if not _TOKEN_HASH.fullmatch(token_hash):
        raise StoreError(f"a token hash is {TOKEN_HASH_LENGTH} hexadecimal digits (sha256)")


def _failure_key(key: str) -> str:
    if not key or len(key) > FAILURE_KEY_LENGTH:
        raise StoreError(f"a failure key has 1 to {FAILURE_KEY_LENGTH} characters")
    # "email:name@example.org": a NUL came in the e-mail field of a log-in.
    return _storable(key, key.partition(":")[0] if ":" in key else "key")


# SQLite's errors that pass: a full disk (or `max_page_count` reached), another writer holding
# the file too long, a failed read or write, a file that cannot be opened just now.
_SQLITE_PASSING = ("SQLITE_FULL", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_CANTOPEN")


def _unavailable(error: SQLAlchemyError) -> bool:
    """Whether the database is away or full rather than the request wrong: worth a retry."""
    if isinstance(error, DisconnectionError | PoolTimeout):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    cause = error.orig
    if isinstance(cause, sqlite3.Error):
        name = getattr(cause, "sqlite_errorname", "")
        return isinstance(name, str) and name.startswith(_SQLITE_PASSING)
    # psycopg's OperationalError: no connection, a cut or restarting server, a full disk on
    # the server, a lock or statement time limit; its InterfaceError: a closed connection.
    return True


def _is_duplicate(error: StoreError) -> bool:
    cause = error.__cause__
    return isinstance(cause, IntegrityError | sqlite3.IntegrityError)


def _parse(url: str, source: str | None) -> tuple[URL, str]:
    """The URL, and how to name it in messages: the file's path, or the URL without password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"{url!r} is not a database URL", where=source) from None
    path = sqlite_file(parsed)
    return parsed, str(path) if path is not None else parsed.render_as_string(hide_password=True)


def _profile_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise StoreError("a profile needs a name")
    if len(cleaned) > NAME_LENGTH:
        raise StoreError(f"a profile name has at most {NAME_LENGTH} characters")
    return _storable(cleaned, "name")


def _json_object(value: dict[str, Any], what: str) -> dict[str, Any]:
    """Refuse now, with a clear message, what the JSON column would refuse at commit."""
    if not isinstance(value, dict):
        raise StoreError(f"{what} must be a JSON object, not {type(value).__name__}")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise StoreError(f"{what} cannot be stored as JSON: {error}") from None
    return value


def _event_count() -> ScalarSelect[int]:
    return (
        select(func.count(EventRow.id))
        .where(EventRow.session_id == SessionRow.id)
        .correlate(SessionRow)
        .scalar_subquery()
    )


def _sessions_query(account: int | None) -> Select[SessionRow, int]:
    return select(SessionRow, _event_count()).where(_owned_by(SessionRow.account_id, account))


def _account_record(row: AccountRow) -> AccountRecord:
    return AccountRecord(id=row.id, email=row.email, created_at=row.created_at)


def _profile_record(row: ProfileRow) -> ProfileRecord:
    return ProfileRecord(id=row.id, name=row.name, created_at=row.created_at, data=row.data)


def _session_record(row: SessionRow, event_count: int) -> SessionRecord:
    if row.status not in SESSION_STATUSES:
        raise StoreError(f"session {row.id} has an unknown status {row.status!r}")
    return SessionRecord(
        id=row.id,
        profile_id=row.profile_id,
        created_at=row.created_at,
        status=row.status,
        ended_at=row.ended_at,
        plan=row.plan,
        summary=row.summary,
        event_count=event_count,
    )
