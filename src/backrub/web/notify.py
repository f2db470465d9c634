"""Hearing that another server process stored events, so each one's live streams catch up.

Within one process the hub wakes its own streams. Several processes (Uvicorn workers) on one
PostgreSQL database tell each other with NOTIFY: the store announces every event it appends,
inside the append's own transaction (`EVENT_CHANNEL`, "SESSION_ID SEQ"), so the server delivers
the news only once the event is committed and no process has a second connection that could
fail after the commit. Each process LISTENs on a connection of its own and, unless it already
has that event, marks the session as changed and wakes its streams, which read it at once.

The listening connection is reopened whenever it breaks (the database restarted, a proxy or a
network cut it). News sent while it was down is lost, so after each reconnection every session
this process follows is marked as changed and read again.

Each event's news carries the event itself ("SESSION_ID SEQ DETAILS"): kept in the store's
`heard` (store/heard.py), so the hub's catch-up need not read it back from the database.

The same connection hears ended log-ins (`LOGIN_CHANNEL`, store/login_cache.py): the store keeps
log-ins in memory only while it listens, and forgets them all whenever it stops or starts again.
Having forgotten an ended log-in, it says so on `HEARD_CHANNEL` from that same connection (named
`HEARERS`), and passes on to the store the answers to this process's own endings, which wait for
every listening process's answer before they reply.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import make_url

from backrub.store.engine import POSTGRES_CONNECT_TIMEOUT, POSTGRES_KEEPALIVES, is_postgresql
from backrub.store.heard import HeardEvents
from backrub.store.login_cache import HEARD_CHANNEL, HEARERS, LOGIN_CHANNEL, LoginCache
from backrub.store.store import EVENT_CHANNEL

CHANNEL = EVENT_CHANNEL
WAIT = 1.0  # seconds a listener waits for a notification before checking whether to stop
log = logging.getLogger(__name__)


def libpq_url(url: str) -> str | None:
    """The plain libpq form of a SQLAlchemy PostgreSQL URL; None for any other database."""
    parsed = make_url(url)
    if not is_postgresql(parsed):
        return None
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class Notifier:
    """Receive "session X changed" from the processes sharing a PostgreSQL database."""

    def __init__(
        self,
        conninfo: str,
        on_change: Callable[[str], None],
        on_reconnect: Callable[[], None] | None = None,
        on_hearing: Callable[[bool], None] | None = None,
        *,
        logins: LoginCache | None = None,
        heard: HeardEvents | None = None,
    ) -> None:
        self._conninfo = conninfo
        self._logins = logins
        self._heard = heard
        self._on_change = on_change
        self._on_reconnect = on_reconnect
        # Told True while listening, False while the connection is down (the live streams
        # look for other processes' events on their own meanwhile).
        told = on_hearing or (lambda hearing: None)

        def hearing(now: bool) -> None:
            if logins is not None:
                logins.hears(now)
            if heard is not None:
                heard.forget()
            told(now)

        self._on_hearing = hearing
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="backrub-listen", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _listen(self) -> None:
        import psycopg

        # Our defaults, as the store's connections have them (it only waits: a cut must not
        # look alive); what the database URL says wins.
        given = psycopg.conninfo.conninfo_to_dict(self._conninfo)
        defaults = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT, **POSTGRES_KEEPALIVES}
        settings = {name: value for name, value in defaults.items() if name not in given}
        if self._logins is not None:
            settings["application_name"] = HEARERS  # how an ending finds every listener
        listened = False  # whether a connection has listened before: news may have been lost
        listening = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, **settings) as listener:
                    listener.execute(f"LISTEN {CHANNEL}")
                    if self._logins is not None:
                        listener.execute(f"LISTEN {LOGIN_CHANNEL}")
                        listener.execute(f"LISTEN {HEARD_CHANNEL}")
                    self._ready.set()
                    if listened:
                        log.warning("listening for other processes' events again")
                        if self._on_reconnect is not None:
                            self._on_reconnect()
                    listened = listening = True
                    self._on_hearing(True)
                    while not self._stop.is_set():
                        forgotten: list[str] = []
                        # One batch at a time, so the answers go out at once (the connection
                        # is busy while `notifies` runs; what comes meanwhile waits for it).
                        for note in listener.notifies(timeout=WAIT, stop_after=1):
                            if note.channel == CHANNEL:
                                self._on_change(self._event_news(note.payload))
                            elif self._logins is None:
                                continue
                            elif note.channel == LOGIN_CHANNEL:
                                self._logins.forget(note.payload)
                                forgotten.append(note.payload)
                            elif note.channel == HEARD_CHANNEL:
                                self._logins.answered(note.payload, note.pid)
                        for news in forgotten:
                            listener.execute("SELECT pg_notify(%s, %s)", (HEARD_CHANNEL, news))
            except psycopg.Error as error:
                # The database went away for a moment: streams fall back on their periodic
                # catch-up until the listener is back. Said once per outage, not every try.
                if listening:
                    log.warning("the connection that listens for events broke: %s", error)
                listening = False
                self._on_hearing(False)
                self._ready.set()
                self._stop.wait(WAIT)

    def _event_news(self, payload: str) -> str:
        """ "SESSION_ID SEQ" for the hub; the event the payload carries goes to `heard`."""
        session_id, _, rest = payload.partition(" ")
        seq, _, told = rest.partition(" ")
        if told and self._heard is not None and seq.isdigit():
            self._heard.hear(session_id, int(seq), told)
        return f"{session_id} {seq}"

    def close(self) -> None:
        self._stop.set()
        self._thread.join(WAIT * 3)
        self._on_hearing(False)
