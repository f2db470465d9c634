"""Property test: whatever the planner plans, the robot's path has no sample over a cap."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backrub.atlas import Tissue, default_atlas
from backrub.errors import PlanningError
from backrub.method.vocabulary import PressureLevel
from backrub.planner import Order, PlanRequest, PlanStatus, make_plan
from backrub.planner.activities import activities
from backrub.robot import breaches, plan_path

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
