"""Where the database lives: `BACKRUB_DATABASE_URL`, else a SQLite file in the user's data dir."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

DATABASE_URL_VARIABLE = "BACKRUB_DATABASE_URL"
DATABASE_FILE_NAME = "backrub.sqlite3"


def default_database_path() -> Path:
    """The SQLite file used when `BACKRUB_DATABASE_URL` is not set (the directory is not created).

    `appauthor=False` keeps Windows from nesting the folder twice (`backrub\\backrub`); elsewhere
    it is the same as `platformdirs.user_data_dir("backrub")`.
    """
    return Path(platformdirs.user_data_dir("backrub", appauthor=False)) / DATABASE_FILE_NAME


def database_url() -> str:
    """The SQLAlchemy URL to open: the environment variable when set, else the default file.

    The default file's directory is created, so that SQLite can create the file in it.
    """
    configured = os.environ.get(DATABASE_URL_VARIABLE, "").strip()
    if configured:
        return configured
    path = default_database_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"
