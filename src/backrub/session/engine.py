"""The live session engine: a Plan run as a state machine over time, reacting to feedback.

Pure: events and the passing of time in; state, cues and reactions out. No clock, no I/O.
Replaying the same events on the same plan rebuilds the same state, which is what makes the
event log enough to resume after a crash.

The engine is put together from parts that change together: the core (time, steps, dispatch)
in `core`, and one mixin each for comfort reactions, the knot ladder, safety stops, re-planning
and balancing. An event of kind `k` is answered by the method `on_<k>` found on the whole engine.
"""

from __future__ import annotations

from collections.abc import Iterable

from backrub.atlas import Atlas
from backrub.method.step import Step
from backrub.planner import Plan
from backrub.session.balancing import BalanceMixin
from backrub.session.comfort import KNOT_BAND, RELAXING_BAND, ComfortMixin
from backrub.session.core import CHECK_IN_EVERY, EngineCore, SessionOver
from backrub.session.events import Event
from backrub.session.knots import KnotMixin
from backrub.session.navigation import NavigationMixin
from backrub.session.replanning import ReplanMixin
from backrub.session.stops import StopsMixin

__all__ = ["CHECK_IN_EVERY", "SessionEngine", "SessionOver", "target_band"]


class SessionEngine(
    NavigationMixin,
    ComfortMixin,
    KnotMixin,
    StopsMixin,
    ReplanMixin,
    BalanceMixin,
    EngineCore,
):
    """Runs one plan. `apply` an event, `advance` the clock, read `view()` and `state`."""

    @classmethod
    def replay(
        cls, plan: Plan, events: Iterable[Event], *, atlas: Atlas | None = None
    ) -> SessionEngine:
        engine = cls(plan, atlas=atlas)
        for event in events:
            engine.apply(event)
        return engine


def target_band(step: Step | None) -> tuple[int, int]:
    """How strong the receiver should feel it on 0-10: about 3-5 relaxing, 6-7 on a knot."""
    return KNOT_BAND if step is not None and step.knot else RELAXING_BAND
