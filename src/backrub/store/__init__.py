"""Persistence: profiles, sessions and their crash-safe event log (SQLAlchemy 2 + Alembic)."""

from backrub.store.errors import OutOfDate, StoreError
from backrub.store.location import DATABASE_URL_VARIABLE, database_url, default_database_path
from backrub.store.records import EndStatus, ProfileRecord, SessionRecord, SessionStatus
from backrub.store.store import Store

__all__ = [
    "DATABASE_URL_VARIABLE",
    "EndStatus",
    "OutOfDate",
    "ProfileRecord",
    "SessionRecord",
    "SessionStatus",
    "Store",
    "StoreError",
    "database_url",
    "default_database_path",
]
