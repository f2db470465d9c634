"""The ORM tables: accounts, profiles, sessions and their events (migrations/ creates them).

Profiles and sessions belong to an account in hosted mode (`account_id`), and to nobody
(`account_id` NULL) in local mode. Deleting an account cascades to everything it owns.

Portable by design: only generic SQLAlchemy types (JSON through `sqlalchemy.JSON`), explicit
constraint names from one naming convention, and datetimes that are always aware and in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

NAME_LENGTH = 100
SESSION_ID_LENGTH = 32  # uuid4().hex
EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path
PASSWORD_HASH_LENGTH = 255
TOKEN_HASH_LENGTH = 64  # sha256, hex
CSRF_TOKEN_LENGTH = 64
FAILURE_KEY_LENGTH = 300
PRESS_ID_LENGTH = 64  # a device's own id for one press (records.PRESS_ID)


def utc_now() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored in UTC and read back aware.

    SQLite keeps no offset, so what goes in is converted to UTC first and what comes out is
    marked UTC; PostgreSQL's `timestamptz` does the same on its own.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps aware UTC datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AccountRow(Base):
    """A person who logs in to a hosted server; the e-mail is stored lower-cased."""

    __tablename__ = "accounts"
    # Never reuse a deleted account's id (SQLite would, for the highest): nothing that still
    # names the old id (a worker's cache, a stale row) can ever point at a new person.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(PASSWORD_HASH_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class LoginRow(Base):
    """One logged-in browser: the sha256 of its cookie's token (never the token itself)."""

    __tablename__ = "logins"

    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LENGTH), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(CSRF_TOKEN_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LoginFailureRow(Base):
    """A failed log-in, by e-mail (`email:...`) and by client address (`ip:...`)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index(None, "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(FAILURE_KEY_LENGTH))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class ProfileRow(Base):
    __tablename__ = "profiles"
    # Names are unique per owner. NULL owners never clash in a unique constraint, so the local,
    # unowned profiles get a partial unique index of their own.
    __table_args__ = (
        UniqueConstraint("account_id", "name"),
        Index(
            "uq_profiles_name_unowned",
            "name",
            unique=True,
            sqlite_where=text("account_id IS NULL"),
            postgresql_where=text("account_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class SessionRow(Base):
    __tablename__ = "sessions"
    __table_args__ = (CheckConstraint("status IN ('running', 'finished', 'stopped')", "status"),)

    id: Mapped[str] = mapped_column(String(SESSION_ID_LENGTH), primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    status: Mapped[str] = mapped_column(String(16))
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    # none_as_null: a session without a summary holds SQL NULL, not the JSON text 'null'.
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("session_id", "seq"),
        Index(None, "session_id"),
        # A press its device sent twice (the reply to the first was lost) is one row: the
        # store looks for the id before it inserts, and this index makes that a rule. Events
        # without an id (NULL: save points, the terminal guide's keys) never clash.
        Index("uq_events_session_id_press_id", "session_id", "press_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    seq: Mapped[int]
    at: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    value: Mapped[int | None]
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    press_id: Mapped[str | None] = mapped_column(String(PRESS_ID_LENGTH))
