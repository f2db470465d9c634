"""The Store: every database call in backrub goes through this one class.

Writes are serialised (a lock in this process, `BEGIN IMMEDIATE` across processes on SQLite) and
each public method is one transaction that has committed when it returns. That is what makes the
event log crash-safe: the caller applies an event only after `append_event` returns, so a kill at
any instant leaves either the event stored or nothing to undo.

Its methods live by what they hold: profiles.py, sessions.py, events.py (and event_log.py, the
append's hot path), accounts.py; base.py has the transactions they all run in, failures.py what
a refusal from the database means. This module puts them together and opens the database.

Ownership: every method on profiles, sessions and events takes `account`. None (the default)
means the local, unowned rows; an account id means that account's rows only. A row that belongs
to someone else is treated exactly like a missing one, with the same error and message, so no
reply can tell that it exists.
"""

from __future__ import annotations

import os

from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from backrub.store.accounts import AccountMethods
from backrub.store.base import EVENT_CHANNEL
from backrub.store.engine import sqlite_file, writer_engine
from backrub.store.errors import StoreError
from backrub.store.events import EventMethods
from backrub.store.failures import UnstorableText
from backrub.store.location import DATABASE_URL_VARIABLE, database_url
from backrub.store.profiles import ProfileMethods
from backrub.store.schema import head_revision, survey, upgrade
from backrub.store.sessions import SessionMethods

__all__ = ["EVENT_CHANNEL", "Store", "UnstorableText"]


class Store(ProfileMethods, SessionMethods, EventMethods, AccountMethods):
    """Profiles, sessions and their events in one database (SQLite file or any SQLAlchemy URL).

    Use `Store.open(...)`, preferably as a context manager; `close()` releases every connection.
    """

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


def _parse(url: str, source: str | None) -> tuple[URL, str]:
    """The URL, and how to name it in messages: the file's path, or the URL without password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"{url!r} is not a database URL", where=source) from None
    path = sqlite_file(parsed)
    return parsed, str(path) if path is not None else parsed.render_as_string(hide_password=True)
