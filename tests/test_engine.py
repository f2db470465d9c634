"""The live engine, one reaction at a time, as the giver would see it happen."""

from __future__ import annotations

import pytest

from backrub.atlas import default_atlas
from backrub.errors import BackrubError
from backrub.method.vocabulary import Contact, PhaseKind, PressureLevel, Technique
from backrub.planner import Plan, PlanRequest, make_plan
from backrub.safety import RULES_BY_ID, judge_steps
from backrub.session import Event, EventKind, SessionEngine, SessionOver, SessionStatus
from backrub.session.balance import MAX_EVEN_OUT_STEP
from backrub.session.summary import summarize
from backrub.session.view import view_of

ATLAS = default_atlas()


def plan_of(**fields: object) -> Plan:
    return make_plan(PlanRequest.model_validate({"minutes": 20, **fields}))


def at_step(engine: SessionEngine, prefix: str) -> float:
    """Advance until a step whose id starts with `prefix` is under way; return the time."""
    clock = engine.state.clock
    while engine.state.current is not None and not engine.state.current.id.startswith(prefix):
        clock += 1
        engine.advance(clock)
    assert engine.state.current is not None, f"never reached {prefix}"
    clock += 2
    engine.advance(clock)
    return clock


def send(engine: SessionEngine, at: float, kind: str, **fields: object) -> list[str]:
    return [cue.key for cue in engine.apply(Event(at=at, kind=EventKind(kind), **fields))]


def reactions(engine: SessionEngine, kind: str) -> list[tuple[str, ...]]:
    return [r.method_ids for r in engine.state.reactions if r.event == kind]


def test_the_session_starts_with_the_setting_and_the_first_step() -> None:
    engine = SessionEngine(plan_of())
    assert engine.state.current is not None
    assert engine.state.current.id == "opening.compressions"
    keys = [cue.key for cue in engine.state.cues]
    assert keys[:2] == ["setting", "step"]


def test_ticklish_first_adds_one_level_of_pressure_l1() -> None:
    engine = SessionEngine(plan_of())
    t = at_step(engine, "upper-back.heel-circles.left")
    before = engine.state.current.pressure  # type: ignore[union-attr]
    keys = send(engine, t, "ticklish")
    assert engine.state.current.pressure == before + 1  # type: ignore[union-attr]
    assert "tickle-more" in keys
    assert reactions(engine, "ticklish") == [("L1",)]


def test_ticklish_again_moves_on_and_comes_back_later_in_the_same_phase_l1() -> None:
    engine = SessionEngine(plan_of())
    t = at_step(engine, "upper-back.heel-circles.left")
    send(engine, t, "ticklish")
    keys = send(engine, t + 1, "ticklish")
    assert "tickle-move-on" in keys
    assert engine.state.current.id != "upper-back.heel-circles.left"  # type: ignore[union-attr]
    queued = [s.id for s in engine.state.queue]
    back = queued.index("upper-back.heel-circles.left")
    assert all(s.phase is PhaseKind.UPPER_BACK for s in engine.state.queue[:back])
    assert engine.state.queue[back + 1].phase is not PhaseKind.UPPER_BACK
    at_step(engine, "upper-back.heel-circles.left")
    assert "tickle-return" in [c.key for c in engine.state.cues]


def test_pain_takes_two_levels_off_then_pain_again_leaves_the_region_for_good() -> None:
    engine = SessionEngine(plan_of(pressure=5))
    t = at_step(engine, "upper-back.heel-circles.left")
    before = int(engine.state.current.pressure)  # type: ignore[union-attr]
    send(engine, t, "pain")
    assert int(engine.state.current.pressure) == before - 2  # type: ignore[union-attr]
    keys = send(engine, t + 1, "pain")
    assert "pain-leave" in keys
    assert "middle-trapezius-left" in engine.state.excluded
    engine.advance(10_000)
    late = [s for s in engine.state.timeline if s.start > t + 1]
    assert not any("middle-trapezius-left" in s.step.regions for s in late)


def test_headache_during_upper_trapezius_work_ends_it_for_the_session_x4() -> None:
    engine = SessionEngine(plan_of())
    t = at_step(engine, "upper-back.knead-traps.left")
    keys = send(engine, t, "headache")
    assert "headache-stop" in keys
    assert reactions(engine, "headache") == [("X4", "U4")]
    current = engine.state.current
    assert current is not None
    assert not any(ATLAS.region(r).base == "upper-trapezius" for r in current.regions)
    engine.advance(10_000)
    for segment in engine.state.timeline:
        on_trapezius = any(ATLAS.region(r).base == "upper-trapezius" for r in segment.step.regions)
        if segment.start >= engine.state.trapezius_stopped_at:  # type: ignore[operator]
            assert not on_trapezius, segment.step.id


def test_after_a_headache_the_closing_sweep_goes_around_the_upper_trapezius_x4() -> None:
    engine = SessionEngine(plan_of())
    t = at_step(engine, "upper-back.knead-traps.left")
    send(engine, t, "headache")
    engine.advance(10_000)
    sweep = next(s.step for s in engine.state.timeline if s.step.id == "closing.sweeps")
    assert sweep.regions and not any("upper-trapezius" in r for r in sweep.regions)
    summary = summarize(engine)
    left_out = {item["region"] for item in summary["left_out"]}
    assert {"upper-trapezius-left", "upper-trapezius-right"} <= left_out
    # What the summary counts there is what was done before the headache, nothing after.
    before = sum(
        s.step.seconds / len(s.step.regions)
        for s in engine.state.timeline
        if "upper-trapezius-left" in s.step.regions and s.start < engine.state.trapezius_stopped_at  # type: ignore[operator]
    )
    assert summary["regions"]["upper-trapezius-left"]["seconds"] == pytest.approx(before, abs=0.1)


def test_nausea_during_upper_trapezius_work_does_the_same() -> None:
    engine = SessionEngine(plan_of())
    t = at_step(engine, "upper-back.knead-traps.right")
    send(engine, t, "nausea")
    assert engine.state.upper_trapezius_stopped


def test_nausea_elsewhere_pauses_the_session() -> None:
    engine = SessionEngine(plan_of())
    t = at_step(engine, "lower-back")
    keys = send(engine, t, "nausea")
    assert engine.status is SessionStatus.PAUSED and "nausea-pause" in keys


def test_knot_ladder_climbs_heel_knuckles_forearm_then_asks_before_the_elbow_u6_u7() -> None:
    engine = SessionEngine(plan_of(minutes=40))
    t = at_step(engine, "upper-back.heel-circles.left")
    keys = send(engine, t, "knot")
    assert "knot-found" in keys
    contacts = [engine.state.current.contact]  # type: ignore[union-attr]
    send(engine, t + 20, "still-tight")
    contacts.append(engine.state.current.contact)  # type: ignore[union-attr]
    send(engine, t + 40, "still-tight")
    contacts.append(engine.state.current.contact)  # type: ignore[union-attr]
    assert contacts == [Contact.HEEL_OF_HAND, Contact.KNUCKLES, Contact.FOREARM]
    keys = send(engine, t + 60, "still-tight")
    assert "elbow-ask" in keys
    assert engine.state.current.contact is Contact.FOREARM  # type: ignore[union-attr]
    assert view_of(engine).asking_elbow
    send(engine, t + 65, "accept-elbow")
    elbow = engine.state.current
    assert elbow is not None and elbow.contact is Contact.ELBOW
    assert elbow.pressure == PressureLevel.FIRM and elbow.consent
    send(engine, t + 70, "more")
    assert engine.state.current.pressure == PressureLevel.DEEP  # type: ignore[union-attr]


def test_declining_the_elbow_keeps_the_forearm() -> None:
    engine = SessionEngine(plan_of())
    t = at_step(engine, "upper-back.heel-circles.left")
    send(engine, t, "knot")
    for offset in (10, 20, 30):
        send(engine, t + offset, "still-tight")
    send(engine, t + 35, "decline-elbow")
    engine.advance(t + 300)
    assert not any(s.step.contact is Contact.ELBOW for s in engine.state.timeline)


def test_knot_work_is_bounded_near_two_minutes_then_mild_rubbing_u8_u9() -> None:
    engine = SessionEngine(plan_of(minutes=40))
    t = at_step(engine, "upper-back.heel-circles.left")
    send(engine, t, "knot")
    engine.advance(t + 400)
    knot = [s for s in engine.state.timeline if s.step.knot]
    assert sum(s.step.seconds for s in knot) == pytest.approx(120)
    after = engine.state.timeline[engine.state.timeline.index(knot[-1]) + 1].step
    assert after.technique is Technique.MILD_RUBBING and 30 <= after.seconds <= 60
    assert engine.state.knots[0].outcome == "bounded"


def test_released_gives_mild_rubbing_then_the_plan_resumes() -> None:
    engine = SessionEngine(plan_of())
    t = at_step(engine, "upper-back.heel-circles.left")
    keys = send(engine, t, "knot")
    keys = send(engine, t + 30, "released")
    assert "knot-released" in keys
    assert engine.state.current.technique is Technique.MILD_RUBBING  # type: ignore[union-attr]
    engine.advance(t + 30 + 45 + 1)
    ids = [s.id for s in engine.state.queue] + [engine.state.current.id]  # type: ignore[union-attr]
    assert "upper-back.heel-circles.left" in ids
    assert engine.state.knots[0].outcome == "released"


def test_knot_time_on_one_side_is_evened_out_on_the_other_b1() -> None:
    engine = SessionEngine(plan_of(minutes=30))
    t = at_step(engine, "upper-back.heel-circles.left")
    send(engine, t, "knot")
    send(engine, t + 40, "released")
    engine.advance(t + 40 + 46)
    knot_time = sum(
        s.step.seconds for s in engine.state.timeline if s.step.id.startswith("knot-1.")
    )
    current = engine.state.current
    upcoming = [*([current] if current else []), *engine.state.queue]
    evened = [s for s in upcoming if s.id.startswith("even")]
    assert [s.regions for s in evened] == [("middle-trapezius-right",)]
    assert evened[0].seconds == pytest.approx(knot_time, abs=1)
    said = [r.what for r in engine.state.reactions if r.event == "balance"]
    assert said == [f"evening out before the closing: {knot_time:.0f} s on middle-trapezius-right"]
    engine.advance(10_000)
    assert engine.status is SessionStatus.FINISHED
    assert balance_broken(engine) == []


def balance_broken(engine: SessionEngine) -> list[str]:
    """B1 pair by pair, with the engine's own tolerance, over the whole session as done."""
    found = judge_steps(engine.done_steps, engine.context(), rules=[RULES_BY_ID["B1"]])
    return [v.one_line() for v in found]


def test_a_long_knot_is_paid_back_on_its_own_mirror_in_several_steps_b1() -> None:
    # A knot on the left upper trapezius: 120 s of ladder and 45 s of aftercare, more than one
    # evening-out step may hold; all of it goes to the right upper trapezius, none elsewhere.
    engine = SessionEngine(plan_of(minutes=20))
    engine.apply(Event(at=430, kind=EventKind.KNOT, region="upper-trapezius-left"))
    engine.advance(10_000)
    evened = [s.step for s in engine.state.timeline if s.step.id.startswith("even")]
    assert {r for s in evened for r in s.regions} == {"upper-trapezius-right"}
    assert len(evened) == 2 and max(s.seconds for s in evened) <= MAX_EVEN_OUT_STEP
    assert sum(s.seconds for s in evened) == pytest.approx(165, abs=1)
    assert balance_broken(engine) == []
    regions = summarize(engine)["regions"]
    for base in ("upper-trapezius", "middle-trapezius"):
        left, right = regions[f"{base}-left"]["seconds"], regions[f"{base}-right"]["seconds"]
        assert abs(left - right) <= 0.1 * max(left, right), (base, left, right)


def test_cough_during_percussion_only_reassures_c3() -> None:
    engine = SessionEngine(plan_of())
    t = at_step(engine, "closing.percussion")
    before = engine.state.current
    keys = send(engine, t, "cough")
    assert keys == ["cough"]
    assert engine.state.current == before
    assert reactions(engine, "cough") == [("C3",)]


def test_more_and_less_move_one_level_within_the_contacts_range() -> None:
    engine = SessionEngine(plan_of())
    t = at_step(engine, "upper-back.heel-circles.left")
    start = int(engine.state.current.pressure)  # type: ignore[union-attr]
    send(engine, t, "less")
    assert int(engine.state.current.pressure) == start - 1  # type: ignore[union-attr]
    send(engine, t + 1, "more")
    send(engine, t + 2, "more")
    assert int(engine.state.current.pressure) == start + 1  # type: ignore[union-attr]
    send(engine, t + 3, "more")
    current = engine.state.current
    assert current is not None and int(current.pressure) <= 4  # heel of hand stops at firm


def test_more_on_the_neck_stops_at_light_x3() -> None:
    engine = SessionEngine(plan_of())
    t = at_step(engine, "neck.knead-neck.left")
    for offset in range(4):
        send(engine, t + offset, "more")
    assert engine.state.current.pressure <= PressureLevel.LIGHT  # type: ignore[union-attr]
    assert "at-limit" in [c.key for c in engine.state.cues]


def test_more_at_the_top_of_a_rung_climbs_the_ladder() -> None:
    engine = SessionEngine(plan_of())
    t = at_step(engine, "upper-back.heel-circles.left")
    send(engine, t, "knot")
    send(engine, t + 1, "more")  # heel of hand 3 -> 4, its top
    send(engine, t + 2, "more")
    assert engine.state.current.contact is Contact.KNUCKLES  # type: ignore[union-attr]


def test_felt_steers_toward_the_band_and_eight_is_too_much() -> None:
    engine = SessionEngine(plan_of())
    t = at_step(engine, "upper-back.heel-circles.left")
    start = int(engine.state.current.pressure)  # type: ignore[union-attr]
    send(engine, t, "felt", value=2)
    assert int(engine.state.current.pressure) == start + 1  # type: ignore[union-attr]
    keys = send(engine, t + 1, "felt", value=4)
    assert "just-right" in keys
    keys = send(engine, t + 2, "felt", value=8)
    assert "too-much" in keys
    assert int(engine.state.current.pressure) == start  # type: ignore[union-attr]
    assert view_of(engine).step.target_band == (3, 5)  # type: ignore[union-attr]


def test_skip_pause_resume_and_the_budget() -> None:
    engine = SessionEngine(plan_of(minutes=10))
    send(engine, 5, "skip")
    assert engine.state.current.id != "opening.compressions"  # type: ignore[union-attr]
    send(engine, 20, "pause")
    engine.advance(500)
    assert engine.state.worked == pytest.approx(20)
    send(engine, 500, "resume")
    engine.advance(5_000)
    assert engine.status is SessionStatus.FINISHED
    assert engine.state.worked <= 600 * 1.02
    closing = [s.step.technique for s in engine.state.timeline if s.step.phase is PhaseKind.CLOSING]
    assert closing[-1] is Technique.SWEEP


def test_stop_ends_the_session_and_refuses_later_events() -> None:
    engine = SessionEngine(plan_of())
    keys = send(engine, 30, "stop")
    assert engine.status is SessionStatus.STOPPED
    assert "cold-water" in keys
    with pytest.raises(SessionOver):
        send(engine, 31, "more")


def test_finished_session_says_cold_water_and_swap_roles_g3_g4() -> None:
    engine = SessionEngine(plan_of(minutes=5))
    keys = [c.key for c in engine.advance(1_000)]
    assert engine.status is SessionStatus.FINISHED
    assert {"finished", "cold-water", "swap-roles"} <= set(keys)


def test_long_sessions_remind_the_giver_to_drink_g2() -> None:
    engine = SessionEngine(plan_of(minutes=40))
    keys = [c.key for c in engine.advance(40 * 60)]
    assert "water" in keys


def test_check_ins_come_during_upper_trapezius_work_u4() -> None:
    engine = SessionEngine(plan_of(minutes=40))
    at_step(engine, "upper-back.knead-traps.left")
    assert engine.state.cues[-1].key in ("check-in", "step")
    assert "check-in" in [c.key for c in engine.state.cues]


def test_events_out_of_order_are_refused() -> None:
    engine = SessionEngine(plan_of())
    send(engine, 50, "more")
    with pytest.raises(BackrubError, match="before the last one"):
        send(engine, 40, "less")


def test_a_knot_on_bone_is_not_worked_x1() -> None:
    engine = SessionEngine(plan_of())
    t = at_step(engine, "upper-back")
    keys = send(engine, t, "knot", region="spine")
    assert "bone" in keys and engine.state.knot is None


def test_a_knot_on_the_neck_gets_gentle_circles_only() -> None:
    engine = SessionEngine(plan_of())
    t = at_step(engine, "neck.knead-neck.left")
    send(engine, t, "knot")
    current = engine.state.current
    assert current is not None and not current.knot
    assert current.pressure <= PressureLevel.LIGHT and current.contact is Contact.FINGERTIPS


def test_replay_rebuilds_the_same_state() -> None:
    plan = plan_of(trouble_spots=["teres-left"])
    events = [
        Event(at=10, kind=EventKind.MORE),
        Event(at=200, kind=EventKind.KNOT),
        Event(at=230, kind=EventKind.STILL_TIGHT),
        Event(at=400, kind=EventKind.TICKLISH),
    ]
    first = SessionEngine.replay(plan, events)
    second = SessionEngine.replay(plan, events)
    assert first.state == second.state


def test_a_live_knot_with_no_feedback_climbs_the_routines_rung_times_to_the_forearm_u6() -> None:
    spotted = plan_of(minutes=30, trouble_spots=["middle-trapezius-left"])
    planned = [(s.contact, s.seconds) for s in spotted.steps if s.knot]
    engine = SessionEngine(plan_of(minutes=30))
    t = at_step(engine, "upper-back.heel-circles.left")
    send(engine, t, "knot")
    engine.advance(t + 400)
    rungs = [(s.step.contact, s.step.seconds) for s in engine.state.timeline if s.step.knot]
    # The routine's 40/35/30 s, as the planner times its ladders; then the bound (U8).
    assert rungs[:3] == [
        (Contact.HEEL_OF_HAND, 40.0),
        (Contact.KNUCKLES, 35.0),
        (Contact.FOREARM, 30.0),
    ]
    assert rungs[:3] == planned
    assert sum(seconds for _, seconds in rungs) == pytest.approx(120)
    aftercare = next(s.step for s in engine.state.timeline if "aftercare" in s.step.id)
    assert aftercare.seconds == 45.0


def test_skipping_one_side_keeps_the_mirror_step_at_its_minimum_and_says_so() -> None:
    plan = plan_of()
    mirror = next(s for s in plan.steps if s.id == "upper-back.heel-circles.right")
    engine = SessionEngine(plan)
    t = at_step(engine, "upper-back.heel-circles.left")
    send(engine, t, "skip")
    current = engine.state.current
    assert current is not None and current.id == mirror.id
    assert current.seconds == mirror.min_seconds > 10
    said = [r.what for r in engine.state.reactions if r.event == "skip"]
    assert said == [
        f"skipped the rest of upper-back.heel-circles.left; {mirror.id} still gets its "
        f"{mirror.min_seconds:g} s, and the difference is evened out here later"
    ]
    engine.advance(10_000)
    done = [s.step for s in engine.state.timeline if s.step.id == mirror.id]
    assert sum(s.seconds for s in done) == mirror.min_seconds
    assert balance_broken(engine) == []


def test_cutting_the_evening_out_short_leaves_that_region_rather_than_asking_again_b1() -> None:
    engine = SessionEngine(plan_of(minutes=20))
    engine.apply(Event(at=430, kind=EventKind.KNOT, region="upper-trapezius-left"))
    t = at_step(engine, "even-")
    send(engine, t, "skip")
    assert engine.state.excluded == {
        "upper-trapezius-right": "the receiver cut short evening it out"
    }
    said = [r.what for r in engine.state.reactions if r.event == "skip"]
    assert said == [
        "skipped the rest of even-1.upper-trapezius-right; upper-trapezius-right left for "
        "this session"
    ]
    engine.advance(10_000)
    later = [s for s in engine.state.timeline if s.start >= t]
    assert not any("upper-trapezius-right" in s.step.regions for s in later)
    assert engine.status is SessionStatus.FINISHED and balance_broken(engine) == []


@pytest.mark.parametrize(("at", "region"), [(5, "middle-trapezius-left"), (50, "teres-right")])
def test_a_knot_in_the_first_minute_of_ten_gets_its_first_rung_and_aftercare(
    at: float, region: str
) -> None:
    plan = plan_of(minutes=10)
    engine = SessionEngine(plan)
    send(engine, at, "knot", region=region)
    engine.advance(10_000)
    assert engine.status is SessionStatus.FINISHED
    knot = [s.step for s in engine.state.timeline if s.step.id.startswith("knot-1.")]
    assert knot[0].contact is Contact.HEEL_OF_HAND and knot[0].seconds == 40
    assert knot[-1].technique is Technique.MILD_RUBBING and knot[-1].seconds == 45
    assert engine.state.knots[0].outcome != "noted"
    bound = [r.what for r in engine.state.reactions if r.event == "bound"]
    assert all("two minutes" not in what for what in bound), bound
    # Optional steps made way, the least important first; the closing stayed whole.
    dropped = [note.split()[0] for note in engine.state.notes if "dropped" in note]
    planned = {s.id: s for s in plan.steps}
    assert dropped and all(planned[step_id].priority > 1 for step_id in dropped)
    closing = [s.step.technique for s in engine.state.timeline if s.step.phase.value == "closing"]
    assert closing == [Technique.PALM_COMPRESSION, Technique.PERCUSSION, Technique.SWEEP]
    assert engine.state.worked <= plan.budget_seconds * 1.02
    assert balance_broken(engine) == []


def test_pain_twice_on_the_closing_compressions_region_moves_them_elsewhere_c1() -> None:
    # A bruise takes out one upper paraspinal; pain twice takes out the other, the only region
    # of the closing's compressions. They move to the closing's other regions, as at plan time.
    plan = plan_of(
        minutes=10,
        routine="neck-and-shoulders",
        screening={"local": [{"region": "paraspinal-upper-left", "kind": "bruise"}]},
    )
    engine = SessionEngine(plan)
    assert engine.state.current is not None
    assert engine.state.current.regions == ("paraspinal-upper-right",)
    send(engine, 5, "pain")
    send(engine, 8, "pain")
    assert "paraspinal-upper-right" in engine.state.excluded
    engine.advance(10_000)
    assert engine.status is SessionStatus.FINISHED
    closing = [s.step for s in engine.state.timeline if s.step.phase is PhaseKind.CLOSING]
    assert [s.technique for s in closing] == [
        Technique.PALM_COMPRESSION,
        Technique.PERCUSSION,
        Technique.SWEEP,
    ]
    compressions = closing[0]
    assert compressions.regions and "paraspinal-upper-right" not in compressions.regions
    assert [r.method_ids for r in engine.state.reactions if r.event == "closing"] == [("C1",)]
    broken = judge_steps(engine.done_steps, engine.context(), rules=[RULES_BY_ID["C1"]])
    assert broken == []


def test_a_knot_noted_in_the_warm_up_waits_on_the_state_then_is_not_lost() -> None:
    engine = SessionEngine(plan_of())
    keys = send(engine, 20, "knot", region="teres-left")
    assert "knot-later" in keys
    # While it waits, the state and the live map show it.
    assert view_of(engine).waiting_knots == ("teres-left",)
    send(engine, 40, "stop")
    knots = summarize(engine)["knots"]
    assert knots == [
        {"region": "teres-left", "found_at": 20.0, "outcome": "not reached", "seconds": 0.0}
    ]
    assert view_of(engine).waiting_knots == ()


def test_a_knot_noted_in_the_warm_up_is_worked_after_it_and_keeps_its_found_time() -> None:
    engine = SessionEngine(plan_of())
    send(engine, 20, "knot", region="teres-left")
    engine.advance(10_000)
    assert engine.state.knots[0].found_at == 20.0
    assert engine.state.knots[0].outcome == "bounded"
    assert view_of(engine).waiting_knots == ()


def test_a_second_knot_reported_while_one_is_worked_is_in_the_summary() -> None:
    engine = SessionEngine(plan_of(minutes=30))
    t = at_step(engine, "upper-back.heel-circles.left")
    send(engine, t, "knot")
    send(engine, t + 5, "knot", region="teres-right")
    send(engine, t + 10, "stop")
    outcomes = {k["region"]: k["outcome"] for k in summarize(engine)["knots"]}
    assert outcomes == {"middle-trapezius-left": "interrupted", "teres-right": "noted"}


def test_the_rest_of_a_step_a_knot_interrupts_is_done_in_full_b1() -> None:
    # A knot as a second-round step (priority 3) begins: its other half is bound to its full
    # time, so the rest must not be dropped or shortened when the plan is re-fitted.
    plan = plan_of(minutes=45, routine="neck-and-shoulders", trouble_spots=["neck-left"])
    engine = SessionEngine(plan)
    t = at_step(engine, "upper-back.knead-traps.left@2")
    planned = engine.state.current.seconds  # type: ignore[union-attr]
    send(engine, t, "knot")
    engine.advance(10_000)
    done = sum(
        s.step.seconds
        for s in engine.state.timeline
        if s.step.id == "upper-back.knead-traps.left@2"
    )
    assert done == pytest.approx(planned)
    assert engine.status is SessionStatus.FINISHED and balance_broken(engine) == []


def test_skipping_the_gentle_circles_of_a_knot_keeps_the_knot_on_record() -> None:
    engine = SessionEngine(plan_of())
    t = at_step(engine, "neck.knead-neck.left")
    keys = send(engine, t, "knot")
    assert "gentle-knot" in keys
    send(engine, t + 10, "skip")
    assert [(k.region, k.outcome) for k in engine.state.knots] == [("neck-left", "gentle")]
