"""'+30 s here' and 'back one step': the time comes from later steps, the rules still hold.

The property tests (test_engine_properties.py, test_engine_live_properties.py) draw both events
among all the others; these are the exact outcomes a giver sees.
"""

from __future__ import annotations

from backrub.planner import Plan, PlanRequest, make_plan
from backrub.session import Event, EventKind, SessionEngine, SessionStatus
from backrub.session.summary import summarize, timeline
from backrub.session.view import view_of
from tests.test_engine_reactions import current_id, last_reaction, reach, send


def plan_of(**fields: object) -> Plan:
    return make_plan(PlanRequest.model_validate({"minutes": 20, **fields}))


def planned_seconds(engine: SessionEngine) -> float:
    """What the session will have worked once everything now planned is done."""
    state = engine.state
    current_left = state.current.seconds - state.elapsed if state.current else 0.0
    return state.worked + current_left + sum(step.seconds for step in state.queue)


def finish(engine: SessionEngine) -> None:
    engine.advance(engine.state.clock + engine.budget * 3)
    assert engine.status is SessionStatus.FINISHED


# ------------------------------------------------------------------ +30 s here


def test_extend_gives_the_step_30_s_taken_from_later_steps() -> None:
    engine = SessionEngine(plan_of())
    t = reach(engine, "opening.compressions", into=10)
    later = sum(step.seconds for step in engine.state.queue)
    cues = send(engine, t, "extend")
    assert engine.state.current is not None and engine.state.current.seconds == 66 + 30
    assert sum(step.seconds for step in engine.state.queue) == later - 30
    assert planned_seconds(engine) == engine.budget
    assert last_reaction(engine) == (
        "30 s more on Muscles beside the spine; later steps are shorter"
    )
    assert "extend" in cues
    assert view_of(engine).step_left == 66 + 30 - 10
    finish(engine)
    done = timeline(engine)
    assert done[0]["step"] == "opening.compressions" and done[0]["end"] == 96.0
    summary = summarize(engine)
    assert summary["worked_seconds"] <= engine.budget * 1.02
    assert "opening.compressions: 30 s more, asked for" in summary["notes"]


def test_extend_on_one_side_gives_the_other_side_the_same() -> None:
    engine = SessionEngine(plan_of())
    t = reach(engine, "neck.knead-neck.left")
    send(engine, t, "extend")
    assert engine.state.current is not None and engine.state.current.seconds == 42 + 30
    partner = engine.state.queue[0]
    assert (partner.id, partner.seconds) == ("neck.knead-neck.right", 72)
    assert last_reaction(engine) == (
        "30 s more on Back of the neck (the other side gets it too, to keep them even); "
        "later steps are shorter"
    )
    assert planned_seconds(engine) == engine.budget
    finish(engine)
    sides = summarize(engine)["sides"]
    assert sides["even"], sides


def test_extend_when_nothing_later_can_give_is_refused_and_changes_nothing() -> None:
    engine = SessionEngine(plan_of(minutes=5))
    t = reach(engine, "closing.sweeps")
    before = engine.state.current
    cues = send(engine, t, "extend")
    assert engine.state.current == before
    assert last_reaction(engine) == "no extra time here: no later step can give the time"
    assert cues == ["extend-refused"]


def test_extend_during_knot_work_is_refused() -> None:
    engine = SessionEngine(plan_of())
    t = reach(engine, "upper-back.heel-circles.left")
    send(engine, t, "knot")
    rung = engine.state.current
    send(engine, t + 1, "extend")
    assert engine.state.current == rung
    assert last_reaction(engine) == "no extra time here: knot work keeps its own times"


# ------------------------------------------------------------------ back one step


def test_back_does_the_step_before_again_then_the_rest_of_this_one() -> None:
    engine = SessionEngine(plan_of())
    t = reach(engine, "opening.forearm-shoulders.left", into=10)
    cues = send(engine, t, "back")
    assert current_id(engine) == "opening.compressions"
    assert engine.state.current is not None and engine.state.current.seconds == 66
    rest = engine.state.queue[0]
    assert (rest.id, rest.seconds) == ("opening.forearm-shoulders.left", 34 - 10)
    assert last_reaction(engine) == (
        "the step before again: Muscles beside the spine for 66 s, then the rest of this one"
    )
    assert cues[:2] == ["back", "step"]
    assert view_of(engine).next_step is not None
    assert planned_seconds(engine) == engine.budget
    finish(engine)
    done = [item["step"] for item in timeline(engine)]
    assert done[:4] == [
        "opening.compressions",
        "opening.forearm-shoulders.left",
        "opening.compressions",
        "opening.forearm-shoulders.left",
    ]
    summary = summarize(engine)
    assert "opening.compressions: done again (66 s), asked for" in summary["notes"]
    assert summary["sides"]["even"], summary["sides"]


def test_back_twice_goes_back_two_steps() -> None:
    engine = SessionEngine(plan_of())
    t = reach(engine, "opening.palms-blades.left", into=3)
    send(engine, t, "back")
    assert current_id(engine) == "opening.forearm-shoulders.right"
    send(engine, t + 2, "back")
    assert current_id(engine) == "opening.forearm-shoulders.left"
    assert [s.id for s in engine.state.queue[:2]] == [
        "opening.forearm-shoulders.right",
        "opening.palms-blades.left",
    ]


def test_back_on_the_first_step_is_refused() -> None:
    engine = SessionEngine(plan_of())
    cues = send(engine, 3, "back")
    assert current_id(engine) == "opening.compressions"
    assert last_reaction(engine) == "not going back: this is the first step"
    assert cues == ["back-refused"]


def test_back_to_a_region_left_for_pain_is_refused_and_says_why() -> None:
    engine = SessionEngine(plan_of())
    t = reach(engine, "neck.knead-neck.left")
    send(engine, t, "pain")
    send(engine, t + 1, "pain")
    assert "neck-left" in engine.state.excluded
    t = reach(engine, "neck.knead-neck.right")
    send(engine, t, "back")
    assert current_id(engine) == "neck.knead-neck.right"
    assert last_reaction(engine) == (
        "not going back: Back of the neck (left) was left out (pain reported twice in this session)"
    )


def test_back_to_a_step_that_tickled_is_refused() -> None:
    engine = SessionEngine(plan_of())
    t = reach(engine, "upper-back.ribs.left")
    send(engine, t, "ticklish")
    t = reach(engine, "upper-back.ribs.right")
    send(engine, t, "back")
    assert current_id(engine) == "upper-back.ribs.right"
    assert last_reaction(engine) == (
        "not going back: Small breathing muscles between the ribs tickled, so it is not done again"
    )


def test_back_within_the_closing_is_refused_its_order_is_fixed() -> None:
    # Found by the property tests: percussion, back to the compressions, percussion again
    # broke the closing's order (C1).
    engine = SessionEngine(plan_of())
    t = reach(engine, "closing.percussion")
    send(engine, t, "back")
    assert current_id(engine) == "closing.percussion"
    assert last_reaction(engine) == "not going back: the closing has begun, the massage is ending"


def test_back_during_knot_work_and_after_it_is_refused() -> None:
    engine = SessionEngine(plan_of())
    t = reach(engine, "upper-back.heel-circles.left")
    send(engine, t, "knot")
    send(engine, t + 1, "back")
    assert last_reaction(engine) == "not going back: knot work runs once, with its aftercare"
    send(engine, t + 2, "released")
    while engine.state.knot is not None:
        t += 5
        engine.advance(t)
    send(engine, t + 1, "back")
    assert last_reaction(engine) == (
        "not going back: the step before was knot work, done once with its aftercare"
    )


def test_a_replay_of_extend_and_back_rebuilds_the_same_session() -> None:
    plan = plan_of()
    engine = SessionEngine(plan)
    t = reach(engine, "neck.skull-base.left", into=5)
    events = [
        Event(at=t, kind=EventKind.EXTEND),
        Event(at=t + 20, kind=EventKind.BACK),
        Event(at=t + 40, kind=EventKind.EXTEND),
    ]
    for item in events:
        engine.apply(item)
    finish(engine)
    again = SessionEngine.replay(plan, events)
    finish(again)
    assert again.state == engine.state


# ------------------------------------------------------------------ found on the way


def test_ticklish_then_skip_moves_on_past_a_step_that_can_no_longer_be_done() -> None:
    # Found by the property tests once they drew extend and back: the rest of a ticklish step
    # was put back after a step whose only region was left out, so it came straight back.
    engine = SessionEngine(plan_of())
    t = reach(engine, "opening.whole-back")
    send(engine, t, "pain", region="latissimus-left")
    send(engine, t + 1, "pain", region="latissimus-left")
    t = reach(engine, "upper-back.knuckles-spine.right", into=3)
    send(engine, t, "ticklish")
    send(engine, t + 1, "skip")
    assert current_id(engine) == "lower-back.latissimus.right"
    assert last_reaction(engine) == (
        "moved on; back to upper-back.knuckles-spine.right later in this phase"
    )
