"""Screening (X5): what the receiver's answers allow, change or refuse, and why."""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backrub.atlas import Area, default_atlas
from backrub.datafile import validate
from backrub.errors import BackrubError, DataFileError, UnknownNameError
from backrub.method.vocabulary import Contact, PressureLevel, Technique
from backrub.safety.screening import (
    LocalProblem,
    LocalProblemKind,
    Outcome,
    ScreeningAnswers,
    ScreeningFile,
    ScreeningResult,
    evaluate,
    local_check,
    local_checks,
    parse_local_problem,
    question,
    screening_questions,
)

NOT_TODAY = [
    "fever-or-infection",
    "blood-clot",
    "alcohol-or-drugs",
    "blood-pressure-uncontrolled",
    "chest-pain-or-breathless",
    "stroke-signs",
    "unwell-today",
    "back-pain-with-bladder-trouble",
]
EMERGENCIES = [
    "blood-clot",
    "chest-pain-or-breathless",
    "stroke-signs",
    "back-pain-with-bladder-trouble",
]
SEE_PROFESSIONAL = [
    "pregnant-or-nursing",
    "cancer-or-chemotherapy",
    "osteoporosis",
    "heart-disease",
    "lung-disease",
    "recent-surgery-or-fracture",
    "neck-injury-new",
    "blood-thinners",
    "numbness-or-shooting-pain",
    "spinal-condition",
    "unexplained-back-pain",
]
ALL_IDS = [q.id for q in screening_questions()]


def answer(*yes: str, local: tuple[str, ...] = ()) -> ScreeningResult:
    problems = tuple(parse_local_problem(text) for text in local)
    return evaluate(ScreeningAnswers(yes=frozenset(yes), local=problems))


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize("question_id", NOT_TODAY)
def test_not_today_conditions_refuse_the_session_with_their_reason(question_id: str) -> None:
    result = answer(question_id)
    assert result.outcome is Outcome.NOT_TODAY
    assert not result.allows_session
    assert result.restrictions.is_empty
    (finding,) = result.findings
    assert finding.question == question_id
    assert finding.reason == question(question_id).reason
    assert question(question_id).label in result.summary()


@pytest.mark.parametrize("question_id", SEE_PROFESSIONAL)
def test_see_professional_conditions_send_to_a_doctor_or_therapist(question_id: str) -> None:
    result = answer(question_id)
    assert result.outcome is Outcome.SEE_PROFESSIONAL
    assert not result.allows_session
    assert not result.emergency
    assert result.restrictions.is_empty
    (finding,) = result.findings
    assert finding.reason == question(question_id).reason
    assert re.search(r"doctor|therapist|physiotherapist|midwife|care team", finding.reason)


@pytest.mark.parametrize("question_id", EMERGENCIES)
def test_emergencies_point_to_medical_help_now(question_id: str) -> None:
    result = answer(question_id)
    assert result.emergency
    assert result.findings[0].emergency
    assert re.search(r"medical help now|emergency number", result.findings[0].reason)
    assert "get medical help now" in result.summary()


def test_an_ordinary_refusal_is_not_an_emergency() -> None:
    result = answer("fever-or-infection", "alcohol-or-drugs")
    assert result.outcome is Outcome.NOT_TODAY
    assert not result.emergency
    assert "medical help now" not in result.summary()


def test_a_cold_counts_as_an_infection() -> None:
    assert "cold" in question("fever-or-infection").text


def test_pregnancy_question_also_asks_about_nursing() -> None:
    assert "breastfeeding" in question("pregnant-or-nursing").text


def test_the_most_severe_outcome_wins_and_every_reason_is_listed() -> None:
    result = answer("asthma", "pregnant-or-nursing", local=("spine:bruise",))
    assert result.outcome is Outcome.SEE_PROFESSIONAL
    assert result.restrictions.is_empty
    assert [f.question for f in result.findings] == ["pregnant-or-nursing", "asthma", None]

    result = answer("asthma", "pregnant-or-nursing", "fever-or-infection")
    assert result.outcome is Outcome.NOT_TODAY
    assert [f.outcome for f in result.findings] == [
        Outcome.NOT_TODAY,
        Outcome.SEE_PROFESSIONAL,
        Outcome.GO_WITH_CHANGES,
    ]
    assert result.summary().startswith("Not today: fever or infection")
    assert "pregnancy or nursing" in result.summary()


def test_emergencies_are_listed_first() -> None:
    result = answer("fever-or-infection", "blood-clot", "osteoporosis")
    assert [f.question for f in result.findings] == [
        "blood-clot",
        "fever-or-infection",
        "osteoporosis",
    ]


# ---------------------------------------------------------------- go, and go with changes


def test_no_answers_means_go_with_nothing_taken_out() -> None:
    result = evaluate(ScreeningAnswers())
    assert result.outcome is Outcome.GO
    assert result.allows_session
    assert result.findings == ()
    assert result.restrictions.is_empty
    assert not result.emergency
    assert result.summary().startswith("Go:")


def test_a_local_bruise_takes_exactly_that_region_out() -> None:
    result = answer(local=("upper-trapezius-left:bruise",))
    assert result.outcome is Outcome.GO_WITH_CHANGES
    assert result.allows_session
    assert list(result.restrictions.excluded_regions) == ["upper-trapezius-left"]
    reason = result.restrictions.excluded_regions["upper-trapezius-left"]
    assert local_check(LocalProblemKind.BRUISE).reason in reason
    assert result.restrictions.max_pressure is None
    assert not result.restrictions.removed_techniques
    (finding,) = result.findings
    assert finding.kind is LocalProblemKind.BRUISE
    assert finding.regions == ("upper-trapezius-left",)
    assert "leave out upper-trapezius-left (bruise)" in result.summary()


def test_two_problems_on_one_region_give_both_reasons() -> None:
    result = answer(local=("spine:sunburn", "spine:skin-infection", "spine:sunburn"))
    reason = result.restrictions.excluded_regions["spine"]
    assert local_check(LocalProblemKind.SUNBURN).reason in reason
    assert local_check(LocalProblemKind.SKIN_INFECTION).reason in reason
    assert [f.regions for f in result.findings] == [("spine",), ("spine",)]


@pytest.mark.parametrize("kind", list(LocalProblemKind))
def test_every_local_problem_kind_takes_its_region_out(kind: LocalProblemKind) -> None:
    result = evaluate(ScreeningAnswers(local=(LocalProblem(region="teres-right", kind=kind),)))
    assert result.outcome is Outcome.GO_WITH_CHANGES
    assert set(result.restrictions.excluded_regions) == {"teres-right"}


def test_asthma_removes_percussion_and_nothing_else() -> None:
    result = answer("asthma")
    assert result.outcome is Outcome.GO_WITH_CHANGES
    assert set(result.restrictions.removed_techniques) == {Technique.PERCUSSION}
    assert "Asthma" in result.restrictions.removed_techniques[Technique.PERCUSSION]
    assert result.restrictions.max_pressure is None
    assert not result.restrictions.removed_contacts
    assert not result.restrictions.excluded_regions
    assert result.summary() == "Go with changes: no percussion (asthma)"


def test_bruising_easily_caps_pressure_and_removes_the_elbow() -> None:
    result = answer("bruises-easily")
    assert result.restrictions.max_pressure is PressureLevel.MODERATE
    assert result.restrictions.max_pressure_reason
    assert set(result.restrictions.removed_contacts) == {Contact.ELBOW}
    assert not result.restrictions.removed_techniques


def test_frail_or_older_caps_pressure_and_removes_elbow_and_percussion() -> None:
    restrictions = answer("frail-or-older").restrictions
    assert restrictions.max_pressure is PressureLevel.MODERATE
    assert set(restrictions.removed_contacts) == {Contact.ELBOW}
    assert set(restrictions.removed_techniques) == {Technique.PERCUSSION}


def test_reduced_feeling_caps_pressure() -> None:
    restrictions = answer("diabetes-reduced-feeling").restrictions
    assert restrictions.max_pressure is PressureLevel.MODERATE
    assert not restrictions.removed_contacts


def test_a_healing_neck_injury_takes_the_neck_out_and_keeps_the_shoulders() -> None:
    restrictions = answer("neck-injury-healing").restrictions
    neck = {region.id for region in default_atlas().in_area(Area.NECK, tissue=None)}
    assert set(restrictions.excluded_regions) == neck
    assert "upper-trapezius-left" not in restrictions.excluded_regions


def test_changes_from_several_answers_combine_with_every_cause() -> None:
    result = answer("asthma", "frail-or-older", "bruises-easily", local=("spine:bruise",))
    restrictions = result.restrictions
    assert restrictions.max_pressure is PressureLevel.MODERATE
    percussion = restrictions.removed_techniques[Technique.PERCUSSION]
    assert "Asthma" in percussion
    assert "Frail or over about 75" in percussion
    assert set(restrictions.excluded_regions) == {"spine"}
    summary = result.summary()
    assert "no elbow (bruises easily, frail or over about 75)" in summary
    assert "leave out spine (bruise)" in summary


# ---------------------------------------------------------------- bad input


def test_an_unknown_question_is_refused_with_the_known_ones() -> None:
    with pytest.raises(UnknownNameError) as caught:
        answer("asthma", "sore-toe")
    message = str(caught.value)
    assert "'sore-toe'" in message
    assert "asthma" in message
    assert "pregnant-or-nursing" in message
    assert "\n" not in message

    with pytest.raises(UnknownNameError, match=r"'sore-toe'.*known questions: .*asthma"):
        question("sore-toe")


def test_an_unknown_region_is_refused_with_the_known_ones() -> None:
    problem = LocalProblem(region="left-elbow", kind=LocalProblemKind.BRUISE)
    with pytest.raises(UnknownNameError) as caught:
        evaluate(ScreeningAnswers(local=(problem,)))
    assert "'left-elbow'" in str(caught.value)
    assert "upper-trapezius-left" in str(caught.value)


def test_parse_local_problem_reads_region_and_kind() -> None:
    problem = parse_local_problem("upper-trapezius-left:bruise")
    assert problem == LocalProblem(region="upper-trapezius-left", kind=LocalProblemKind.BRUISE)
    assert str(problem) == "upper-trapezius-left:bruise"
    assert parse_local_problem(" spine : recent-injury ").kind is LocalProblemKind.RECENT_INJURY


@pytest.mark.parametrize("text", ["upper-trapezius-left", "a:b:c", ":bruise", "spine:", ""])
def test_parse_local_problem_names_the_expected_shape(text: str) -> None:
    with pytest.raises(BackrubError, match="expected REGION:KIND"):
        parse_local_problem(text)


def test_parse_local_problem_names_an_unknown_kind_and_the_known_ones() -> None:
    with pytest.raises(UnknownNameError, match=r"'blister'.*bruise, skin-infection"):
        parse_local_problem("spine:blister")


def test_parse_local_problem_names_an_unknown_region_and_the_known_ones() -> None:
    with pytest.raises(UnknownNameError, match=r"'shoulder-left'.*known regions: .*teres-left"):
        parse_local_problem("shoulder-left:bruise")


# ---------------------------------------------------------------- the data file


def _file_data() -> dict[str, Any]:
    text = resources.files("backrub.safety").joinpath("screening.toml").read_text("utf-8")
    return tomllib.loads(text)


def test_every_question_has_text_reason_and_the_x5_id() -> None:
    questions = screening_questions()
    assert len(questions) >= 20
    for q in questions:
        assert q.text.strip().endswith("?"), q.id
        assert q.reason.strip(), q.id
        assert q.label.strip(), q.id
        assert "X5" in q.ids, q.id
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", q.id)
    assert len(set(ALL_IDS)) == len(ALL_IDS)


def test_every_local_problem_kind_has_its_question() -> None:
    assert [check.kind for check in local_checks()] == list(LocalProblemKind)
    for check in local_checks():
        assert check.text.endswith("?")
        assert check.reason
        assert "X5" in check.ids


def test_every_outcome_other_than_go_is_used() -> None:
    used = {q.outcome for q in screening_questions()}
    assert used == {Outcome.NOT_TODAY, Outcome.SEE_PROFESSIONAL, Outcome.GO_WITH_CHANGES}


def test_a_change_on_a_refusing_question_is_a_data_error() -> None:
    data = _file_data()
    data["question"][0]["max_pressure"] = 2
    with pytest.raises(DataFileError, match=r"screening\.toml: question\[0\].*go-with-changes"):
        validate(ScreeningFile, data, source="screening.toml")


def test_an_unknown_key_is_a_data_error_naming_it() -> None:
    data = _file_data()
    data["question"][1]["severity"] = "high"
    with pytest.raises(DataFileError, match=r"question\[1\]\.severity: is not a known key"):
        validate(ScreeningFile, data, source="screening.toml")


def test_a_missing_local_kind_is_a_data_error() -> None:
    data = _file_data()
    data["local"] = data["local"][1:]
    with pytest.raises(DataFileError, match="missing: bruise"):
        validate(ScreeningFile, data, source="screening.toml")


# ---------------------------------------------------------------- rules for every answer set


@given(st.sets(st.sampled_from(ALL_IDS)))
def test_the_outcome_is_at_least_as_severe_as_every_answer(yes: set[str]) -> None:
    result = evaluate(ScreeningAnswers(yes=frozenset(yes)))
    for question_id in yes:
        assert result.outcome.severity >= question(question_id).outcome.severity
    assert {f.question for f in result.findings} == yes
    assert result.emergency == any(question(q).emergency for q in yes)
    assert result.allows_session == (result.outcome.severity <= Outcome.GO_WITH_CHANGES.severity)
    if result.outcome is not Outcome.GO_WITH_CHANGES:
        assert result.restrictions.is_empty


@given(st.lists(st.sampled_from(ALL_IDS)))
def test_the_same_answers_in_any_order_give_the_same_result(order: list[str]) -> None:
    forward = evaluate(ScreeningAnswers(yes=frozenset(order)))
    backward = evaluate(ScreeningAnswers(yes=frozenset(reversed(order))))
    assert forward == backward
    assert forward.summary() == backward.summary()


def test_answers_are_written_out_sorted_whatever_the_set_order() -> None:
    # A frozenset's order changes from one process to the next; the text must not.
    answers = ScreeningAnswers(
        yes=frozenset({"diabetes-reduced-feeling", "asthma", "frail-or-older"})
    )
    expected = ["asthma", "diabetes-reduced-feeling", "frail-or-older"]
    assert answers.model_dump()["yes"] == expected
    assert answers.model_dump(mode="json")["yes"] == expected
    assert answers.model_dump_json().startswith('{"yes":["asthma","diabetes-reduced-feeling",')
    assert ScreeningAnswers.model_validate_json(answers.model_dump_json()) == answers
