"""Persistence: accounts, profiles, sessions and their crash-safe events (SQLAlchemy, Alembic)."""

from backrub.store.errors import (
    AlreadyStored,
    EmailTaken,
    OutOfDate,
    StoreError,
    StoreUnavailable,
)
from backrub.store.location import DATABASE_URL_VARIABLE, database_url, default_database_path
from backrub.store.records import (
    AccountRecord,
    Credentials,
    EndStatus,
    LoginRecord,
    ProfileRecord,
    SessionRecord,
    SessionStatus,
)
from backrub.store.store import Store

__all__ = [
    "DATABASE_URL_VARIABLE",
    "AccountRecord",
    "AlreadyStored",
    "Credentials",
    "EmailTaken",
    "EndStatus",
    "LoginRecord",
    "OutOfDate",
    "ProfileRecord",
    "SessionRecord",
    "SessionStatus",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "database_url",
    "default_database_path",
]
