"""Property tests: whatever the planner plans and whatever the receiver says during it, the
robot's path has no sample over a cap."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backrub.atlas import Tissue, default_atlas
from backrub.errors import PlanningError
from backrub.method.vocabulary import PressureLevel
from backrub.planner import Order, PlanRequest, PlanStatus, make_plan
from backrub.planner.activities import activities
from backrub.robot import breaches, plan_path
from backrub.robot.live import apply_events
from backrub.session.events import Event, EventKind

ATLAS = default_atlas()
MUSCLES = sorted(r.id for r in ATLAS.regions if r.tissue is Tissue.MUSCLE)
RATE = 100.0

requests = st.builds(
    PlanRequest,
    minutes=st.integers(5, 15),
    activities=st.lists(st.sampled_from(sorted(activities())), max_size=2).map(tuple),
    trouble_spots=st.lists(st.sampled_from(MUSCLES), max_size=2).map(tuple),
    pressure=st.sampled_from(list(PressureLevel)),
    order=st.sampled_from(list(Order)),
    routine=st.sampled_from(["classic", "neck-and-shoulders"]),
)


@settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(requests)
def test_no_sample_of_any_plan_is_over_a_cap(request: PlanRequest) -> None:
    try:
        plan = make_plan(request)
    except PlanningError:
        return
    if plan.status is PlanStatus.REFUSED:
        return
    path = plan_path(plan, rate_hz=RATE)
    assert breaches(path) == []
    assert path.force.max() <= 105.0


LIVE = [EventKind.LESS, EventKind.MORE, EventKind.PAIN, EventKind.STOP]
scripts = st.lists(st.tuples(st.floats(0.0, 1.0), st.sampled_from(LIVE)), min_size=1, max_size=6)


@settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(requests, scripts)
def test_no_sample_is_over_a_cap_whatever_the_receiver_says(
    request: PlanRequest, script: list[tuple[float, EventKind]]
) -> None:
    try:
        plan = make_plan(request)
    except PlanningError:
        return
    if plan.status is PlanStatus.REFUSED:
        return
    path = plan_path(plan, rate_hz=RATE)
    events = [Event(at=share * path.duration, kind=kind) for share, kind in script]
    changed = apply_events(path, events)  # raises if any sample breaks a cap
    assert breaches(changed) == []
    stops = [event.at for event in events if event.kind is EventKind.STOP]
    if stops:
        after = changed.t >= min(stops) + 0.25
        assert (changed.force[after] == 0).all()
