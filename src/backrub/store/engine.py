"""Engines for the store: durable SQLite settings and transactions that begin when we say so.

SQLite connections get `foreign_keys=ON` (the cascades in `tables.py` depend on it),
`journal_mode=WAL` (readers never block the writer) and `synchronous=FULL` (a commit has reached
the disk when it returns, so a power cut after `append_event` loses nothing; only a save point
is committed without waiting for the disk, see `StoreBase._appending`). Python's sqlite3
driver begins transactions only before DML, which would autocommit each DDL statement of a
migration; we switch that off and emit BEGIN ourselves (SQLAlchemy's documented recipe), so a
migration is all or nothing and writers can ask for `BEGIN IMMEDIATE`.

PostgreSQL goes through psycopg 3 (a URL naming no driver gets it), with a pre-ping so a pool
outlives a server restart, and time limits set on each connection: a writer waiting for a row
another process holds, or a statement, gives up after a while instead of hanging a request, and
a connection left idle inside a transaction (a stuck process holding locks) is ended by the
server; TCP keepalives and a user timeout end a connection the network cut. `-c` settings
in the URL's own `options` come after ours, and its own parameters win over ours, so a
deployment can change them.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

WAL_TRIES = 10

# The execution option that picks the kind of BEGIN on SQLite: "DEFERRED" or "IMMEDIATE".
SQLITE_BEGIN = "backrub_sqlite_begin"

# Session settings for every PostgreSQL connection (see the module's docstring).
POSTGRES_SETTINGS = {
    "lock_timeout": "10s",
    "statement_timeout": "60s",
    "idle_in_transaction_session_timeout": "60s",
}
POSTGRES_CONNECT_TIMEOUT = 10  # seconds to reach the server before giving up
# A connection cut by the network (not closed by the server) is noticed instead of hanging a
# request until the kernel gives up (many minutes): keepalives probe an idle connection, and
# data the server has not acknowledged within TCP_USER_TIMEOUT milliseconds ends it.
POSTGRES_KEEPALIVES: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 20_000,
}
POSTGRES_DRIVER = "postgresql+psycopg"
# Connections a process keeps open to PostgreSQL, and how many more it may open for a moment.
# At least as many as the threads that may talk to the database at once (the live routes' 16,
# web/live_stream.py, and a few of the framework's): SQLAlchemy's default (5 kept, 10 more
# opened and closed again on return) churned connections in every busy second of an evening of
# 1,000 households, a new server process each, and the busier the second, the more it churned.
# 25 at most, with the listener 26 a worker: PostgreSQL's default 100 serves 3 workers.
POSTGRES_POOL_SIZE = 20
POSTGRES_POOL_OVERFLOW = 5


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def is_postgresql(url: URL) -> bool:
    return url.get_backend_name() in ("postgresql", "postgres")


def with_driver(url: URL) -> URL:
    """PostgreSQL through psycopg 3, the driver backrub depends on, when the URL names none.

    `postgresql://` means psycopg2 on SQLAlchemy 2.0 and `postgres://` (Heroku's spelling) is
    not known at all; both become `postgresql+psycopg://`. Other URLs are returned unchanged.
    """
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername=POSTGRES_DRIVER)
    return url


def _postgres_connect_args(url: URL, *, read_only: bool = False) -> dict[str, Any]:
    """psycopg's connect() arguments: our session settings, then whatever the URL asks for."""
    settings = dict(POSTGRES_SETTINGS)
    if read_only:
        settings["default_transaction_read_only"] = "on"
    options = " ".join(f"-c {name}={value}" for name, value in settings.items())
    given = url.query.get("options")
    if isinstance(given, str) and given.strip():
        options = f"{options} {given.strip()}"  # later -c settings win
    arguments: dict[str, Any] = {"options": options}
    if "connect_timeout" not in url.query:
        arguments["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT
    if "application_name" not in url.query:
        arguments["application_name"] = "backrub"
    for name, value in POSTGRES_KEEPALIVES.items():
        if name not in url.query:
            arguments[name] = value
    return arguments


def sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL; None for other databases and in-memory SQLite."""
    if not is_sqlite(url):
        return None
    database = url.database or ""
    if url.query.get("uri") in ("true", "1"):
        if url.query.get("mode") == "memory" or "mode=memory" in database:
            return None
        database = database.removeprefix("file:").split("?", 1)[0]
    if database in ("", ":memory:"):
        return None
    return Path(database)


def _prepare_sqlite(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _begin_sqlite)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    # Switching a brand-new file to WAL needs a moment alone with it: when several connections
    # open it at once (a server's first requests), the losers see "database is locked" at once,
    # whatever the busy timeout. Waiting a little and trying again is all it takes.
    for attempt in range(WAL_TRIES):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == WAL_TRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _begin_sqlite(connection: Connection) -> None:
    mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def writer_engine(url: URL) -> Engine:
    """The store's engine: pooled, and on SQLite durable and in charge of its transactions."""
    url = with_driver(url)
    if is_postgresql(url):
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=POSTGRES_POOL_SIZE,
            max_overflow=POSTGRES_POOL_OVERFLOW,
            connect_args=_postgres_connect_args(url),
        )
    engine = create_engine(url)
    if is_sqlite(url):
        event.listen(engine, "connect", _prepare_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
    return engine


def read_only_engine(url: URL) -> Engine:
    """An engine that cannot change the database, for looking before touching anything.

    A SQLite file is opened with `mode=ro`: no pragma runs, nothing is created or converted.
    Other databases are only read from, and every transaction is rolled back; on PostgreSQL
    every transaction is also read-only (`default_transaction_read_only`), so the server itself
    refuses a write.
    """
    url = with_driver(url)
    if is_postgresql(url):
        return create_engine(
            url, poolclass=NullPool, connect_args=_postgres_connect_args(url, read_only=True)
        )
    path = sqlite_file(url)
    if path is None:
        return create_engine(url, poolclass=NullPool)
    uri = f"{path.resolve().as_uri()}?{_read_only_mode(path)}"
    return create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
        poolclass=NullPool,
    )


def _read_only_mode(path: Path) -> str:
    """`mode=ro`, or `immutable=1` for a WAL file that was closed cleanly.

    Reading a WAL database, even with `mode=ro`, creates its `-wal` and `-shm` files when they
    are missing, and they stay behind; a cleanly closed WAL database holds everything in the main
    file, so it is read as immutable instead and no file appears. When a `-wal` file exists
    (a writer is open, or one was killed) `mode=ro` reads it, so committed events are seen.
    """
    with path.open("rb") as file:
        header = file.read(20)
    wal_mode = len(header) == 20 and header[18] == 2
    wal_file = path.with_name(path.name + "-wal")
    return "immutable=1" if wal_mode and not wal_file.exists() else "mode=ro"
