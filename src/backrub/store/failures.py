"""When the database says no: the failures that pass (the database is away, full or busy:
worth a retry, a 503) and those that are the request's (a duplicate, a NUL in text).
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from backrub.store.errors import StoreError


class UnstorableText(StoreError):
    """Text with a NUL character: PostgreSQL cannot keep it in a text column, so neither backend
    takes it (SQLite could, but both must answer alike). `where` names the field it came in."""


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
