"""Telling every server process that a session changed, so each one's live streams catch up.

Within one process the hub wakes its own streams. Several processes (Uvicorn workers) on one
PostgreSQL database tell each other with NOTIFY: after an append, the writer sends the session
id and its newest event number on one channel; each process LISTENs on its own connection, and
unless it already has that event, marks the session as changed and wakes its streams, which
read the new events at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import make_url

from backrub.store.engine import is_postgresql

CHANNEL = "backrub_session"
WAIT = 1.0  # seconds a listener waits for a notification before checking whether to stop


def libpq_url(url: str) -> str | None:
    """The plain libpq form of a SQLAlchemy PostgreSQL URL; None for any other database."""
    parsed = make_url(url)
    if not is_postgresql(parsed):
        return None
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class Notifier:
    """Send and receive "session X changed" between processes sharing a PostgreSQL database."""

    def __init__(self, conninfo: str, on_change: Callable[[str], None]) -> None:
        import psycopg

        self._conninfo = conninfo
        self._on_change = on_change
        self._send_lock = threading.Lock()
        self._sender = psycopg.connect(conninfo, autocommit=True)
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="backrub-listen", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def send(self, message: str) -> None:
        with self._send_lock:
            self._sender.execute("SELECT pg_notify(%s, %s)", (CHANNEL, message))

    def _listen(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as listener:
                    listener.execute(f"LISTEN {CHANNEL}")
                    self._ready.set()
                    while not self._stop.is_set():
                        for note in listener.notifies(timeout=WAIT):
                            self._on_change(note.payload)
            except psycopg.Error:
                # The database went away for a moment: streams fall back on their periodic
                # catch-up until the listener is back.
                self._ready.set()
                self._stop.wait(WAIT)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(WAIT * 3)
        self._sender.close()
