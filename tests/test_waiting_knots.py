"""A knot noted during the warm-up, as the live state, the live map and the profile show it."""

from __future__ import annotations

from backrub.live import LiveRun
from backrub.planner import PlanRequest, make_plan
from backrub.session import EventKind
from backrub.store import Store
from backrub.web.maps import session_map
from backrub.web.people import knots_over_time
from backrub.web.state import session_state
from tests.clock import Clock


def test_a_waiting_knot_is_on_the_live_state_the_map_and_then_the_profile(store: Store) -> None:
    profile = store.create_profile("Robin", {})
    clock = Clock()
    run = LiveRun.start(
        store, make_plan(PlanRequest(minutes=20)), profile_id=profile, monotonic=clock
    )
    clock.now = 12.0
    run.record_now(EventKind.KNOT, region="teres-left")

    assert session_state(run, 1)["waiting_knots"] == ["teres-left"]
    assert 'class="waiting-knot" data-region="teres-left"' in session_map(run.engine)

    clock.now = 30.0
    run.record_now(EventKind.STOP)
    assert session_state(run, 2)["waiting_knots"] == []
    assert 'class="waiting-knot"' not in session_map(run.engine)
    found = knots_over_time(store, profile, account=None)
    assert [(k["region"], k["outcome"]) for k in found["knots"]] == [("teres-left", "not reached")]
    assert found["counts"] == {"teres-left": 1}
