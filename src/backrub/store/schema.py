"""The schema's version: a look at a database before touching it, and the Alembic upgrade to head.

`Store.open` calls `survey` first, with a read-only connection, and refuses a database that this
version of backrub must not write to (a newer schema, a damaged file, someone else's tables)
before anything, even a pragma, has changed it. Only then does `upgrade` run the migrations.

On PostgreSQL the survey's connection is read-only (the server refuses any write), and the whole
upgrade, DDL included, is one transaction that first takes an advisory lock: processes opening a
new database at the same moment migrate it one after the other, and the later ones find it at head
(Alembic reads the version inside the locked transaction) and change nothing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import URL, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from backrub.store.engine import SQLITE_BEGIN, is_sqlite, read_only_engine, sqlite_file
from backrub.store.errors import StoreError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_NOTHING_CHANGED = "nothing was changed"
# The PostgreSQL advisory lock held while migrating (any constant; this one spells "backrub").
MIGRATION_LOCK = 0x6261636B727562
# How long an upgrade waits for another process's migration (or its locks) on PostgreSQL.
MIGRATION_LOCK_TIMEOUT = "5min"


def migration_config(url: str | None = None) -> Config:
    """An Alembic configuration for the package's migrations, without any ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(migration_config())


def known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in _script().walk_revisions())


def head_revision() -> str:
    head = _script().get_current_head()
    assert head is not None, "the migrations folder has no revisions"
    return head


def survey(url: URL, where: str) -> tuple[str, ...]:
    """The Alembic revisions stamped in the database, read without changing it (none if new).

    Raises StoreError for a database that must not be touched.
    """
    path = sqlite_file(url)
    if path is not None:
        if not path.exists():
            if not path.parent.is_dir():
                raise StoreError(
                    f"cannot create the database: the folder {path.parent} does not exist",
                    where=where,
                )
            return ()
        if path.is_file() and path.stat().st_size == 0:
            return ()
        _check_sqlite_header(path, where)
    elif is_sqlite(url):
        return ()  # in memory: always new
    engine = read_only_engine(url)
    try:
        with engine.connect() as connection:
            if is_sqlite(url):
                verdict = connection.exec_driver_sql("PRAGMA quick_check").scalar()
                if verdict != "ok":
                    raise _damaged(where, f"integrity check: {verdict}")
            tables = set(inspect(connection).get_table_names())
            revisions: tuple[str, ...] = ()
            if VERSION_TABLE in tables:
                rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
                revisions = tuple(sorted(str(row[0]) for row in rows))
    except SQLAlchemyError as error:
        if path is not None and "locked" in _reason(error):
            raise StoreError(
                f"another program holds the database locked; try again; {_NOTHING_CHANGED}",
                where=where,
            ) from error
        if path is not None:
            raise _damaged(where, _reason(error)) from error
        raise StoreError(f"cannot read the database: {_reason(error)}", where=where) from error
    finally:
        engine.dispose()
    unknown = [revision for revision in revisions if revision not in known_revisions()]
    if unknown:
        raise StoreError(
            f"written by a newer version of backrub (schema revision {', '.join(unknown)} is "
            f"unknown to this one, which knows up to {head_revision()}); upgrade backrub to "
            f"open it; {_NOTHING_CHANGED}",
            where=where,
        )
    others = sorted(tables - {VERSION_TABLE})
    if others and not revisions:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise StoreError(
            f"not a backrub database: it holds other tables ({shown}) and no backrub schema "
            f"version; {_NOTHING_CHANGED}",
            where=where,
        )
    return revisions


def upgrade(engine: Engine, where: str) -> None:
    """Bring the schema to head in one transaction (SQLite: `BEGIN IMMEDIATE`, one writer)."""
    config = migration_config()
    try:
        writer = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        with writer.connect() as connection, connection.begin():
            if connection.dialect.name == "postgresql":
                # A migration may wait for other processes and take longer than a request.
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{MIGRATION_LOCK_TIMEOUT}'")
                connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except CommandError as error:
        raise StoreError(f"cannot upgrade the schema: {error}", where=where) from error
    except SQLAlchemyError as error:
        raise StoreError(f"cannot upgrade the schema: {_reason(error)}", where=where) from error


def _check_sqlite_header(path: Path, where: str) -> None:
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except OSError as error:
        raise StoreError(f"cannot read the file: {error.strerror or error}", where=where) from None
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise _damaged(where, "the file is not a SQLite database")


def _damaged(where: str, reason: str) -> StoreError:
    return StoreError(
        f"not a backrub database or it is damaged ({reason}); {_NOTHING_CHANGED}", where=where
    )


def _reason(error: SQLAlchemyError) -> str:
    """The driver's own words (`file is not a database`), without SQLAlchemy's long appendix.

    On one line: PostgreSQL's messages run over several (`connection failed: ...`, `DETAIL: ...`).
    """
    original = getattr(error, "orig", None)
    reason = str(original) if original is not None else str(error).split("\n", 1)[0]
    return " ".join(reason.split())
