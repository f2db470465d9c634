"""The live session: events in, state and cues out; re-planning; replay from the event log."""

from backrub.session.engine import SessionEngine, SessionOver, target_band
from backrub.session.events import Event, EventKind
from backrub.session.state import Cue, KnotRecord, Reaction, Segment, SessionState, SessionStatus

__all__ = [
    "Cue",
    "Event",
    "EventKind",
    "KnotRecord",
    "Reaction",
    "Segment",
    "SessionEngine",
    "SessionOver",
    "SessionState",
    "SessionStatus",
    "target_band",
]
