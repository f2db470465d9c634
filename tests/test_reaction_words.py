"""What the live page shows of the engine's answers: plain words, never an internal code.

The engine words its reactions with step ids ("skipped closing.sweeps") and region ids; the live
state's `reaction.words` is what the message list and the answer by the button show (issue 11:
no internal codes on any page). Checked over every reaction of random sessions."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings

from backrub.atlas import default_atlas
from backrub.plain_words import reaction_in_words
from backrub.planner import PlanRequest
from backrub.session import Event
from tests.test_engine_properties import run, sessions

STEP_ID = re.compile(r"\b(?:opening|neck|upper-back|lower-back|closing|knot-\d+)\.[a-z0-9.-]+")
# The codes: "middle-trapezius-left". A one-word id ("spine") is also a plain word, and fine.
CODES = sorted((i for i in default_atlas().region_ids if "-" in i), key=len, reverse=True)
REGION_ID = re.compile(r"\b(" + "|".join(re.escape(i) for i in CODES) + r")\b")


def test_known_answers_read_in_words() -> None:
    said = reaction_in_words(
        "skipped knot-1.middle-trapezius-left.rung-2 and closing.sweeps", "classic"
    )
    assert "step 2 of the ladder on the knot" in said
    assert "middle-trapezius-left" not in said
    assert "closing.sweeps" not in said
    assert "Sweep" in said


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions())
def test_no_reaction_shows_a_step_or_region_id(session: tuple[PlanRequest, list[Event]]) -> None:
    request, events = session
    engine = run(request, events)
    for reaction in engine.state.reactions:
        words = reaction_in_words(reaction.what, engine.plan.routine_id)
        assert not STEP_ID.search(words), words
        assert not REGION_ID.search(words), words
