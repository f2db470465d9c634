"""Events heard from the other server processes, so a catch-up need not read them back.

On PostgreSQL each append NOTIFYs "SESSION_ID SEQ DETAILS" (events.py), where DETAILS is the
event itself as JSON (`details`): the server delivers it only once the event is committed, so it
is as true as the row. The notifier (web/notify.py) keeps the newest few per session here; a
catch-up the notifier asked for takes them from here when they follow on from what the engine
has (no gap), and reads the log otherwise (a lost notification, a process that started later).

Only a told catch-up uses them: the periodic look and a press's retries read the log, so a
notification that never came is still found there.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime

from backrub.session.events import Event, EventKind

KEEP = 2  # events kept per session (a told catch-up mostly needs one)
SESSIONS_MAX = 50_000  # sessions with events kept; past that, all are forgotten


def details(account: int | None, event: Event, recorded_at: datetime) -> str:
    """An event as the NOTIFY payload carries it after "SESSION_ID SEQ "."""
    return json.dumps(
        [account, event.at, event.kind.value, event.region, event.value, recorded_at.isoformat()]
    )


class HeardEvents:
    """The newest events heard per session, as their JSON details (parsed when used)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[tuple[int, str], ...]] = {}

    def hear(self, session_id: str, seq: int, text: str) -> None:
        with self._lock:
            kept = self._sessions.get(session_id, ())
            if not kept and len(self._sessions) >= SESSIONS_MAX:
                self._sessions.clear()
            self._sessions[session_id] = (*kept[len(kept) - KEEP + 1 :], (seq, text))

    def forget(self) -> None:
        """Everything (the notifier listens again: what came meanwhile is in the log only)."""
        with self._lock:
            self._sessions.clear()

    def after(
        self, session_id: str, after: int, account: int | None
    ) -> list[tuple[int, Event, datetime]] | None:
        """The session's events from seq `after + 1` on, in order, with no gap; None when they
        are not all here (or not `account`'s, or cannot be read): then read the log."""
        with self._lock:
            kept = self._sessions.get(session_id)
            if not kept:
                return None
            found = sorted(entry for entry in kept if entry[0] > after)
            del self._sessions[session_id]  # taken: the next catch-up needs newer ones
        if not found or found[0][0] != after + 1:
            return None
        events = []
        for number, (seq, text) in enumerate(found, start=after + 1):
            if seq != number:
                break  # a gap: what follows it is read at the next catch-up
            try:
                owner, at, kind, region, value, recorded = json.loads(text)
                event = Event(at=at, kind=EventKind(kind), region=region, value=value)
                when = datetime.fromisoformat(recorded)
            except (ValueError, TypeError):
                return None
            if owner != account:
                return None  # the log says who may see it (and answers "no session")
            events.append((seq, event, when))
        return events
