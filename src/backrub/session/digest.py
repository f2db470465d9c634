"""A past session boiled down for the planner: the feedback as it fell on each region, and knots.

The events of a session say what was said, not where or how firm the work was at that moment:
that is the engine's state. So the log is replayed, and just before each piece of feedback the
step being worked is read. Pure, like the engine: a plan and events in, a `SessionDigest` out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from backrub.planner import Plan
from backrub.planner.history import Feedback, KnotOutcome, SessionDigest
from backrub.session.engine import SessionEngine, target_band
from backrub.session.events import Event, EventKind

# What the planner learns from; the rest (pauses, coughs, save points...) only moves the clock.
FEEDBACK = frozenset(
    {EventKind.MORE, EventKind.LESS, EventKind.FELT, EventKind.PAIN, EventKind.TICKLISH}
)


def digest_session(
    plan: Plan, events: Iterable[Event], *, session_id: str, started_at: datetime
) -> SessionDigest:
    """Replay the session's events on its plan and note, for each piece of feedback, the regions
    and the work it fell on (a pain that names its region falls on that region only)."""
    engine = SessionEngine(plan)
    feedback: list[Feedback] = []
    for event in events:
        if engine.status.is_over:
            break
        if event.kind is EventKind.TICK:
            continue  # a save point: the next event moves the clock the same way
        if event.kind in FEEDBACK:
            engine.advance(event.at)
            current = engine.state.current
            if current is not None:
                regions = (event.region,) if event.region else current.regions
                band = target_band(current)
                feedback.extend(
                    Feedback(
                        region=region,
                        kind=event.kind.value,
                        at=event.at,
                        pressure=int(current.pressure),
                        phase=current.phase.value,
                        technique=current.technique.value,
                        knot=current.knot,
                        value=event.value,
                        band=(band[0], band[1]),
                    )
                    for region in regions
                )
        engine.apply(event)
    knots = tuple(
        KnotOutcome(region=k.region, outcome=k.outcome, seconds=k.seconds)
        for k in engine.state.knots
    )
    return SessionDigest(
        session_id=session_id, started_at=started_at, feedback=tuple(feedback), knots=knots
    )
