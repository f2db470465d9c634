"""The planner: whole plans for typical receivers, asserted the way a giver would read them."""

from __future__ import annotations

from collections import defaultdict

import pytest

from backrub.atlas import Atlas, Side
from backrub.errors import PlanningError, UnknownNameError
from backrub.method.step import Step
from backrub.method.vocabulary import (
    DEEP_CONTACTS,
    Contact,
    PhaseKind,
    PressureLevel,
    Technique,
)
from backrub.planner import Order, Plan, PlanRequest, PlanStatus, make_plan
from backrub.safety import judge_plan
from backrub.safety.screening import LocalProblem, LocalProblemKind, ScreeningAnswers


def plan_for(**fields: object) -> Plan:
    return make_plan(PlanRequest.model_validate(fields))


def phases(plan: Plan) -> list[PhaseKind]:
    return list(dict.fromkeys(step.phase for step in plan.steps))


def seconds_in(plan: Plan, phase: PhaseKind) -> float:
    return sum(step.seconds for step in plan.steps if step.phase is phase)


def seconds_on(plan: Plan, region_id: str) -> float:
    return sum(step.seconds for step in plan.steps if region_id in step.regions)


def side_totals(plan: Plan, atlas: Atlas) -> dict[Side, float]:
    totals: dict[Side, float] = defaultdict(float)
    for step in plan.steps:
        for region_id in step.regions:
            totals[atlas.region(region_id).side] += step.seconds
    return totals


def test_twenty_minutes_for_a_computer_worker_covers_every_phase() -> None:
    plan = plan_for(minutes=20, activities=["computer-work"])
    assert plan.status is PlanStatus.READY
    assert phases(plan) == [
        PhaseKind.OPENING,
        PhaseKind.NECK,
        PhaseKind.UPPER_BACK,
        PhaseKind.LOWER_BACK,
        PhaseKind.CLOSING,
    ]
    assert plan.total_seconds == pytest.approx(1200, rel=0.02)
    assert judge_plan(plan) == []


@pytest.mark.parametrize("minutes", [5, 7.5, 10, 15, 20, 30, 45, 60, 75, 90])
def test_every_budget_is_filled_within_two_percent(minutes: float) -> None:
    plan = plan_for(minutes=minutes)
    assert abs(plan.total_seconds - minutes * 60) <= 0.02 * minutes * 60
    assert plan.steps[-1].technique is Technique.SWEEP
    assert judge_plan(plan) == []


def test_short_sessions_drop_optional_steps_and_say_so() -> None:
    plan = plan_for(minutes=5)
    dropped = {item.name for item in plan.left_out if item.kind == "step"}
    assert dropped, "a five-minute plan cannot hold every step of the classic routine"
    assert all("5 minutes" in item.reason for item in plan.left_out if item.kind == "step")
    kept = {step.id for step in plan.steps}
    assert "opening.compressions" in kept and "closing.sweeps" in kept


def test_long_sessions_repeat_the_middle_instead_of_stretching_forever() -> None:
    plan = plan_for(minutes=90)
    assert any("@2" in step.id for step in plan.steps)
    assert max(step.seconds for step in plan.steps) <= 240
    assert phases(plan)[0] is PhaseKind.OPENING and plan.steps[-1].phase is PhaseKind.CLOSING


def test_warm_up_comes_first_with_passes_before_any_deep_work() -> None:
    plan = plan_for(minutes=30, pressure=5, trouble_spots=["middle-trapezius-right"])
    first_deep = next(i for i, step in enumerate(plan.steps) if step.is_deep)
    warm_up = [s for s in plan.steps[:first_deep] if s.phase is PhaseKind.OPENING]
    assert sum(s.passes for s in warm_up if s.technique is Technique.PALM_COMPRESSION) >= 2


def test_closing_is_compressions_then_percussion_then_sweeps() -> None:
    plan = plan_for(minutes=20)
    closing = [s.technique for s in plan.steps if s.phase is PhaseKind.CLOSING]
    assert closing == [Technique.PALM_COMPRESSION, Technique.PERCUSSION, Technique.SWEEP]


def test_both_sides_get_the_same_time(atlas: Atlas) -> None:
    plan = plan_for(minutes=25, trouble_spots=["upper-trapezius-left"])
    totals = side_totals(plan, atlas)
    assert totals[Side.LEFT] == pytest.approx(totals[Side.RIGHT], abs=1)


def test_focus_area_from_activities_gets_more_time() -> None:
    plain = plan_for(minutes=20)
    desk = plan_for(minutes=20, activities=["computer-work"])
    runner = plan_for(minutes=20, activities=["running"])
    assert seconds_in(desk, PhaseKind.NECK) > seconds_in(plain, PhaseKind.NECK)
    assert seconds_in(runner, PhaseKind.LOWER_BACK) > seconds_in(plain, PhaseKind.LOWER_BACK)
    assert desk.focus_areas and desk.focus_areas[0].value == "neck"


def test_a_trouble_spot_gets_the_knot_ladder_and_the_other_side_is_evened_out() -> None:
    plain = plan_for(minutes=20)
    plan = plan_for(minutes=20, trouble_spots=["upper-trapezius-left"])
    ladder = [s for s in plan.steps if s.knot and "upper-trapezius-left" in s.regions]
    assert [s.contact for s in ladder] == [Contact.HEEL_OF_HAND, Contact.KNUCKLES, Contact.FOREARM]
    assert sum(s.seconds for s in ladder) <= 120
    after = plan.steps[plan.steps.index(ladder[-1]) + 1]
    assert after.technique is Technique.MILD_RUBBING and after.regions == ladder[0].regions
    assert seconds_on(plan, "upper-trapezius-left") > seconds_on(plain, "upper-trapezius-left")
    assert seconds_on(plan, "upper-trapezius-left") == pytest.approx(
        seconds_on(plan, "upper-trapezius-right"), abs=1
    )
    assert all(s.contact is not Contact.ELBOW for s in plan.steps)


def test_neck_trouble_spot_gets_gentle_circles_not_the_ladder() -> None:
    plan = plan_for(minutes=20, trouble_spots=["skull-base-right"], pressure=5)
    extra = [s for s in plan.steps if s.id == "focus.skull-base-right"]
    assert len(extra) == 1
    assert extra[0].pressure <= PressureLevel.LIGHT
    assert extra[0].contact in (Contact.FINGERTIPS, Contact.THUMBS)
    assert not any(s.knot for s in plan.steps)


def test_trouble_spot_on_bone_is_refused_with_muscles_to_pick_from() -> None:
    with pytest.raises(UnknownNameError) as caught:
        plan_for(trouble_spots=["psis-left"])
    assert "psis-left" in str(caught.value) and "below-psis-left" in str(caught.value)


def test_unknown_activity_and_region_are_refused() -> None:
    with pytest.raises(UnknownNameError, match="juggling"):
        plan_for(activities=["juggling"])
    with pytest.raises(UnknownNameError, match="upper-trap-left"):
        plan_for(trouble_spots=["upper-trap-left"])


def test_minutes_outside_five_to_ninety_are_refused() -> None:
    with pytest.raises(ValueError):
        PlanRequest(minutes=4)
    with pytest.raises(ValueError):
        PlanRequest(minutes=91)


def test_too_many_trouble_spots_for_five_minutes_is_a_clear_error() -> None:
    spots = [
        "upper-trapezius-left",
        "upper-trapezius-right",
        "middle-trapezius-left",
        "middle-trapezius-right",
        "latissimus-left",
    ]
    with pytest.raises(PlanningError) as caught:
        plan_for(minutes=5, trouble_spots=spots)
    assert "5 minutes is too short" in str(caught.value)
    assert "at least" in str(caught.value)


def test_orders_of_the_method() -> None:
    middle = [PhaseKind.NECK, PhaseKind.UPPER_BACK, PhaseKind.LOWER_BACK]
    assert phases(plan_for(order="top-down"))[1:4] == middle
    assert phases(plan_for(order="upper-lower-neck"))[1:4] == [
        PhaseKind.UPPER_BACK,
        PhaseKind.LOWER_BACK,
        PhaseKind.NECK,
    ]
    problem = plan_for(order=Order.PROBLEM_FIRST, trouble_spots=["below-psis-left"])
    assert phases(problem)[1] is PhaseKind.LOWER_BACK
    assert phases(problem)[0] is PhaseKind.OPENING and phases(problem)[-1] is PhaseKind.CLOSING


def test_same_request_gives_the_same_plan() -> None:
    request = PlanRequest(minutes=33, activities=("climbing",), trouble_spots=("teres-left",))
    assert make_plan(request).to_json() == make_plan(request).to_json()


def test_light_preference_keeps_everything_light() -> None:
    plan = plan_for(minutes=20, pressure=1)
    assert max(s.pressure for s in plan.steps if s.technique is not Technique.PERCUSSION) <= 2
    assert judge_plan(plan) == []


def test_firm_preference_uses_strong_contacts_for_firm_work() -> None:
    plan = plan_for(minutes=20, pressure=5)
    firm = [s for s in plan.steps if s.pressure >= PressureLevel.FIRM]
    assert firm
    assert all(s.contact in DEEP_CONTACTS for s in firm)
    neck = [s for s in plan.steps if s.phase is PhaseKind.NECK]
    assert all(s.pressure <= PressureLevel.LIGHT for s in neck)


def test_screening_not_today_refuses_with_reasons() -> None:
    plan = plan_for(screening={"yes": ["fever-or-infection"]})
    assert plan.status is PlanStatus.REFUSED
    assert plan.steps == ()
    assert plan.screening.findings and plan.screening.findings[0].reason


def test_screening_see_a_professional_refuses() -> None:
    plan = plan_for(screening={"yes": ["pregnant-or-nursing"]})
    assert plan.status is PlanStatus.REFUSED
    assert plan.to_json()["status"] == "refused"


def test_a_bruise_takes_that_region_out_and_says_why() -> None:
    answers = ScreeningAnswers(
        local=(LocalProblem(region="shoulder-blade-left", kind=LocalProblemKind.BRUISE),)
    )
    plan = make_plan(PlanRequest(minutes=20, screening=answers))
    assert plan.status is PlanStatus.READY
    assert seconds_on(plan, "shoulder-blade-left") == 0
    assert seconds_on(plan, "shoulder-blade-right") > 0
    assert any(i.kind == "region" and i.name == "shoulder-blade-left" for i in plan.left_out)
    assert judge_plan(plan) == []


def test_asthma_drops_percussion_and_the_closing_still_ends_with_sweeps() -> None:
    plan = plan_for(minutes=20, screening={"yes": ["asthma"]})
    assert all(s.technique is not Technique.PERCUSSION for s in plan.steps)
    closing = [s.technique for s in plan.steps if s.phase is PhaseKind.CLOSING]
    assert closing == [Technique.PALM_COMPRESSION, Technique.SWEEP]
    assert any(i.kind == "technique" and i.name == "percussion" for i in plan.left_out)


def test_bruising_easily_caps_pressure_at_moderate() -> None:
    plan = plan_for(
        minutes=20, pressure=5, trouble_spots=["teres-right"], screening={"yes": ["bruises-easily"]}
    )
    assert max(s.pressure for s in plan.steps) <= PressureLevel.MODERATE
    assert not any(s.knot for s in plan.steps)


def test_the_short_routine_plans_too() -> None:
    plan = plan_for(minutes=10, routine="neck-and-shoulders", activities=["knitting"])
    assert plan.routine_id == "neck-and-shoulders"
    assert PhaseKind.LOWER_BACK not in phases(plan)
    assert plan.total_seconds == pytest.approx(600, rel=0.02)


def test_a_lower_back_spot_in_the_short_routine_adds_that_area() -> None:
    plan = plan_for(minutes=10, routine="neck-and-shoulders", trouble_spots=["latissimus-left"])
    assert PhaseKind.LOWER_BACK in phases(plan)
    assert phases(plan)[-1] is PhaseKind.CLOSING


def test_plan_json_shape_is_versioned_and_complete() -> None:
    data = plan_for(minutes=20, activities=["computer-work"]).to_json()
    assert data["schema"] == "backrub.plan" and data["version"] == 1
    assert data["budget_seconds"] == 1200
    assert [p["phase"] for p in data["phases"]] == [
        "opening",
        "neck",
        "upper-back",
        "lower-back",
        "closing",
    ]
    step = data["steps"][0]
    for key in (
        "number",
        "start_seconds",
        "seconds",
        "regions",
        "side",
        "technique",
        "contact",
        "pressure",
        "pressure_word",
        "direction",
        "cue",
        "how",
        "method_ids",
        "where_cm",
    ):
        assert key in step
    starts = [s["start_seconds"] for s in data["steps"]]
    assert starts == sorted(starts) and starts[0] == 0


def test_centimetre_positions_follow_the_receivers_size() -> None:
    small = plan_for(fit={"shoulder_width_cm": 34, "skull_to_s2_cm": 50}).to_json()
    large = plan_for(fit={"shoulder_width_cm": 48, "skull_to_s2_cm": 66}).to_json()
    assert abs(large["steps"][-2]["where_cm"]["y"]) > abs(small["steps"][-2]["where_cm"]["y"])


def test_steps_are_plain_data_without_a_database() -> None:
    plan = plan_for(minutes=10)
    assert all(isinstance(step, Step) for step in plan.steps)


def test_sore_spots_from_the_check_in_are_worked_one_level_lighter() -> None:
    usual = plan_for(minutes=20)
    sore = plan_for(minutes=20, sore_spots=["upper-trapezius-left"])
    before = {step.id: step for step in usual.steps}
    touched = [step for step in sore.steps if "upper-trapezius-left" in step.regions]
    assert touched
    for step in touched:
        was = before[step.id].pressure
        assert step.pressure == max(PressureLevel.FEATHER, was - 1), step.id
    untouched = [step for step in sore.steps if "upper-trapezius-left" not in step.regions]
    assert all(step.pressure == before[step.id].pressure for step in untouched)
    assert any("One level lighter" in note and "(left)" in note for note in sore.notes)


def test_a_closing_step_whose_regions_are_all_left_out_moves_to_the_other_closing_regions() -> None:
    # Found by the property test: bruises on both upper paraspinals took away the only
    # compression of the short routine, and the closing lost its first kind of stroke (C1).
    bruises = [
        LocalProblem(region=f"paraspinal-upper-{side}", kind=LocalProblemKind.BRUISE)
        for side in ("left", "right")
    ]
    plan = plan_for(
        minutes=5,
        routine="neck-and-shoulders",
        screening=ScreeningAnswers(local=tuple(bruises)),
    )
    closing = [step for step in plan.steps if step.phase is PhaseKind.CLOSING]
    assert closing[0].technique is Technique.PALM_COMPRESSION
    assert not {"paraspinal-upper-left", "paraspinal-upper-right"} & set(closing[0].regions)
    assert judge_plan(plan) == []
