"""The engine's states and transitions as declared data, with the reaction found by name.

Every (status, event) pair listed here is allowed; anything else is ignored with a note, except
events after the session is over, which are refused. The reaction for an event kind is the
engine method `on_<kind>` (dashes as underscores).
"""

from __future__ import annotations

from backrub.session.events import EventKind
from backrub.session.state import SessionStatus

RUNNING, PAUSED = SessionStatus.RUNNING, SessionStatus.PAUSED

# Where an event takes the session; events not named keep the status as it is.
TRANSITIONS: dict[tuple[SessionStatus, EventKind], SessionStatus] = {
    (RUNNING, EventKind.PAUSE): PAUSED,
    (PAUSED, EventKind.RESUME): RUNNING,
    (RUNNING, EventKind.STOP): SessionStatus.STOPPED,
    (PAUSED, EventKind.STOP): SessionStatus.STOPPED,
}

# Events that make sense only while hands are on the back.
HANDS_ON = frozenset(EventKind) - {
    EventKind.PAUSE,
    EventKind.RESUME,
    EventKind.STOP,
    EventKind.TICK,
    EventKind.END,
}

# Moving within the plan on request: hands on, while running; the status stays as it is, and
# the engine refuses (with a reaction) when the time or the rules do not allow it.
NAVIGATION = frozenset({EventKind.EXTEND, EventKind.BACK})

# While paused: resume, stop and the passing of time; reports are noted but change nothing.
ALLOWED: dict[SessionStatus, frozenset[EventKind]] = {
    RUNNING: frozenset(EventKind) - {EventKind.RESUME},
    PAUSED: frozenset({EventKind.RESUME, EventKind.STOP, EventKind.TICK}),
}


def handler_name(kind: EventKind) -> str:
    return "on_" + kind.value.replace("-", "_")
