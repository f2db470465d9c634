"""The hard safety rules: one routine file per rule that breaks it alone, the CLI refusing each,
and edge cases of every rule with hand-built steps (METHOD.md X1-X5, U4-U9, O4, B1, C1, C2, G1).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import backrub
from backrub.method.routine import BUILT_IN_ROUTINES, Routine, built_in_routine
from backrub.method.step import Step
from backrub.method.vocabulary import (
    Contact,
    PhaseKind,
    PressureLevel,
    StepSide,
    Technique,
)
from backrub.safety import (
    RULES_BY_ID,
    Restrictions,
    SafetyContext,
    Violation,
    judge_routine,
    judge_step,
    judge_steps,
)
from tests.conftest import make_step
from tests.webserver import run_command

ROUTINES = Path(__file__).resolve().parent / "data" / "routines"
BUILT_IN_DIR = Path(backrub.__file__).resolve().parent / "method" / "routines"


# ------------------------------------------------------------------ helpers


def warm_up(passes: int = 2, regions: tuple[str, ...] | None = None) -> Step:
    """Opening palm compressions over the upper and lower back, `passes` times."""
    return make_step(
        "warm-up",
        phase=PhaseKind.OPENING,
        regions=regions
        or (
            "paraspinal-upper-left",
            "paraspinal-upper-right",
            "paraspinal-lower-left",
            "paraspinal-lower-right",
        ),
        side=StepSide.BOTH,
        technique=Technique.PALM_COMPRESSION,
        contact=Contact.PALMS,
        pressure=PressureLevel.LIGHT,
        passes=passes,
    )


def knot(step_id: str, seconds: float, **fields: Any) -> Step:
    return make_step(step_id, **{"knot": True, "seconds": seconds, **fields})


def rub(step_id: str = "rub", **fields: Any) -> Step:
    values: dict[str, Any] = {
        "technique": Technique.MILD_RUBBING,
        "contact": Contact.PALMS,
        "pressure": PressureLevel.LIGHT,
        "seconds": 30,
    }
    values.update(fields)
    return make_step(step_id, **values)


def broken(violations: list[Violation]) -> set[str]:
    return {violation.rule for violation in violations}


def check_rule(
    rule_id: str, steps: list[Step], context: SafetyContext | None = None
) -> list[str | None]:
    """Ids of the steps (None for the whole routine) one rule names in a sequence of steps."""
    return [v.step for v in RULES_BY_ID[rule_id].check(steps, context or SafetyContext())]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real entry point, `python -m backrub`, with a wide terminal so lines do not wrap."""
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1"}
    return run_command(list(args), env=env, timeout=120)


# ------------------------------------------------------------------ one file per rule


@dataclass(frozen=True)
class Breaking:
    """A routine file that breaks one rule: the steps it may name, and text the CLI must show."""

    rule: str
    offending: frozenset[str | None]
    shown: str

    @property
    def path(self) -> Path:
        return ROUTINES / f"breaks-{self.rule}.toml"


def _case(rule: str, *steps: str | None, shown: str | None = None) -> Breaking:
    first = steps[0]
    return Breaking(rule, frozenset(steps), shown or (f"step {first}" if first else "routine"))


CASES = [
    _case("X1", "upper-back.thumbs-spine", "upper-back.across-spine"),
    _case("X2", "closing.percussion.left", "closing.percussion.right"),
    _case("X3", "neck.knead-neck.left", "neck.knead-neck.right"),
    _case("U4", "upper-back.knead-traps.left", "upper-back.knead-traps.right"),
    _case("U5", "upper-back.knot-left", "upper-back.knot-right"),
    _case("G1", "upper-back.heel-circles.left", "upper-back.heel-circles.right"),
    _case("U6", "upper-back.elbow-left", "upper-back.elbow-right"),
    _case("U7", "upper-back.elbow-left", "upper-back.elbow-right"),
    _case("U8", "upper-back.knot-left", "upper-back.knot-right"),
    _case("U9", "upper-back.knot.left", "upper-back.knot.right"),
    _case("O4", "opening.heel-first.left", "opening.heel-first.right"),
    _case("B1", None, shown="teres"),
    _case("C1", "closing.compressions"),
    _case("C2", "closing.percussion"),
]
CASE_IDS = [case.rule for case in CASES]

# The steps each file must name, at the least (a rule may stop at its first offence).
MUST_NAME = {
    "X1": {"upper-back.thumbs-spine", "upper-back.across-spine"},
    "U6": {"upper-back.elbow-left", "upper-back.elbow-right"},
    "O4": {"opening.heel-first.left"},
}


def test_every_breaking_file_has_a_case() -> None:
    on_disk = sorted(path.stem.removeprefix("breaks-") for path in ROUTINES.glob("breaks-*.toml"))
    assert on_disk == sorted(CASE_IDS)
    assert set(CASE_IDS) <= set(RULES_BY_ID)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_breaking_file_breaks_only_its_rule(case: Breaking) -> None:
    routine = Routine.from_file(case.path)
    assert routine.steps
    violations = judge_routine(routine)
    assert violations, f"{case.path.name} keeps every rule"
    assert broken(violations) == {case.rule}, [v.one_line() for v in violations]
    named = {v.step for v in violations}
    assert named <= case.offending
    assert MUST_NAME.get(case.rule, named) <= named
    for violation in violations:
        assert violation.title == RULES_BY_ID[case.rule].title
        assert violation.message


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_check_command_refuses_breaking_file(case: Breaking) -> None:
    result = run_cli("check", str(case.path))
    assert result.returncode == 1, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    ours = [line for line in lines if line.startswith(f"{case.rule} (")]
    assert ours, result.stdout
    title = RULES_BY_ID[case.rule].title
    assert any(line.startswith(f"{case.rule} ({title}) in ") for line in ours)
    assert any(case.shown in line for line in ours), result.stdout
    # Every broken rule is listed: exactly the violations the judge finds.
    assert len(ours) == len(judge_routine(Routine.from_file(case.path)))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_check_command_json_names_the_rule(case: Breaking) -> None:
    result = run_cli("check", str(case.path), "--json")
    assert result.returncode == 1, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["ok"] is False
    assert verdict["violations"]
    assert {v["rule"] for v in verdict["violations"]} == {case.rule}
    for violation in verdict["violations"]:
        assert set(violation) >= {"rule", "title", "step", "message"}
        assert violation["step"] in case.offending


@pytest.mark.parametrize("name", BUILT_IN_ROUTINES)
def test_built_in_routines_keep_every_rule(name: str) -> None:
    assert judge_routine(built_in_routine(name)) == []


@pytest.mark.parametrize("name", BUILT_IN_ROUTINES)
def test_check_command_accepts_built_in_routines(name: str) -> None:
    by_name = run_cli("check", name)
    assert by_name.returncode == 0, by_name.stdout + by_name.stderr
    assert "ok" in by_name.stdout
    by_path = run_cli("check", str(BUILT_IN_DIR / f"{name}.toml"), "--json")
    assert by_path.returncode == 0, by_path.stdout + by_path.stderr
    verdict = json.loads(by_path.stdout)
    assert verdict["ok"] is True
    assert verdict["violations"] == []
    assert sorted(verdict["rules_checked"]) == sorted(RULES_BY_ID)


def test_check_command_malformed_file_is_exit_2() -> None:
    result = run_cli("check", str(ROUTINES / "malformed.toml"))
    assert result.returncode == 2
    assert "error" in result.stderr


# ------------------------------------------------------------------ X4 and X5 need a context


def test_x4_headache_stops_upper_trapezius_work_in_a_routine() -> None:
    routine = built_in_routine("neck-and-shoulders")
    violations = judge_routine(routine, SafetyContext(upper_trapezius_stopped=True))
    assert broken(violations) == {"X4"}
    assert {v.step for v in violations} == {
        "opening.forearm-shoulders.left",
        "opening.forearm-shoulders.right",
        "upper-back.knead-traps.left",
        "upper-back.knead-traps.right",
    }
    # The closing sweeps touch the upper trapezius too, but a light sweep is not work there.
    assert "closing.sweeps" not in {v.step for v in violations}


def test_x4_without_the_stop_the_same_routine_is_fine() -> None:
    routine = built_in_routine("neck-and-shoulders")
    assert judge_routine(routine, SafetyContext(upper_trapezius_stopped=False)) == []


@pytest.mark.parametrize(
    ("restrictions", "offending"),
    [
        pytest.param(
            Restrictions(excluded_regions={"neck-left": "healing injury", "neck-right": "same"}),
            {"neck.knead-neck.left", "neck.knead-neck.right"},
            id="neck-excluded",
        ),
        pytest.param(
            Restrictions(excluded_regions={"neck-left": "bruise"}),
            {"neck.knead-neck.left"},
            id="one-side-excluded",
        ),
        pytest.param(
            Restrictions(max_pressure=PressureLevel.LIGHT, max_pressure_reason="touch-sensitive"),
            {
                "upper-back.knead-traps.left",
                "upper-back.knead-traps.right",
                "upper-back.heel-circles.left",
                "upper-back.heel-circles.right",
            },
            id="pressure-cap",
        ),
        pytest.param(
            Restrictions(removed_contacts={Contact.FOREARM: "sore elbow"}),
            {"opening.forearm-shoulders.left", "opening.forearm-shoulders.right"},
            id="contact-removed",
        ),
        pytest.param(
            Restrictions(removed_techniques={Technique.KNEADING: "no reason"}),
            {
                "neck.knead-neck.left",
                "neck.knead-neck.right",
                "upper-back.knead-traps.left",
                "upper-back.knead-traps.right",
            },
            id="technique-removed",
        ),
    ],
)
def test_x5_screening_restrictions_are_respected(
    restrictions: Restrictions, offending: set[str]
) -> None:
    routine = built_in_routine("neck-and-shoulders")
    violations = judge_routine(routine, SafetyContext(restrictions=restrictions))
    assert broken(violations) == {"X5"}, [v.one_line() for v in violations]
    assert {v.step for v in violations} == offending


def test_x5_percussion_removed_refuses_the_percussion_step() -> None:
    routine = built_in_routine("neck-and-shoulders")
    context = SafetyContext(
        restrictions=Restrictions(removed_techniques={Technique.PERCUSSION: "asthma"})
    )
    violations = judge_routine(routine, context)
    x5 = [v for v in violations if v.rule == "X5"]
    assert {v.step for v in x5} == {"closing.percussion"}
    assert "asthma" in x5[0].message
    # Only X5 names it: C1 judges the order, and a live session may have skipped percussion
    # after a few strikes, so a removed part that is present is X5's business, not C1's.
    assert broken(violations) == {"X5"}


def test_x5_step_level() -> None:
    context = SafetyContext(restrictions=Restrictions(excluded_regions={"teres-right": "bruise"}))
    assert "X5" in broken(judge_step(make_step(regions=("teres-right",)), context))
    assert "X5" not in broken(judge_step(make_step(regions=("teres-left",)), context))


# ------------------------------------------------------------------ X1: bone


def spine_sweep(pressure: int) -> Step:
    return make_step(
        regions=("spine",),
        side=StepSide.MIDLINE,
        technique=Technique.SWEEP,
        contact=Contact.PALMS,
        pressure=PressureLevel(pressure),
    )


def test_x1_feather_sweep_over_the_spine_is_allowed() -> None:
    assert judge_step(spine_sweep(1)) == []


def test_x1_light_sweep_on_the_spine_is_refused() -> None:
    violations = judge_step(spine_sweep(2))
    assert broken(violations) == {"X1"}
    assert "spine" in violations[0].message


@pytest.mark.parametrize(
    ("technique", "contact"),
    [
        (Technique.STATIC_PRESSURE, Contact.THUMBS),
        (Technique.CIRCLES, Contact.FINGERTIPS),
        (Technique.PALM_COMPRESSION, Contact.PALMS),
    ],
)
def test_x1_only_a_sweep_passes_over_bone_even_at_feather(
    technique: Technique, contact: Contact
) -> None:
    step = make_step(
        regions=("spine",),
        side=StepSide.MIDLINE,
        technique=technique,
        contact=contact,
        pressure=PressureLevel.FEATHER,
    )
    violations = judge_step(step)
    assert broken(violations) == {"X1"}
    assert "only a feather-light sweep" in violations[0].message


def test_x1_feather_thumb_pressure_on_the_spine_fails_the_check_command(tmp_path: Path) -> None:
    text = (ROUTINES / "breaks-X1.toml").read_text(encoding="utf-8")
    # Take out the crossing stroke; make the thumbs on the spine still and feather-light.
    start = text.index('[[phase.step]]\nid = "across-spine"')
    text = text[:start] + text[text.index("[[phase]]", start) :]
    thumbs = text.index('id = "thumbs-spine"')
    end = text.index("[[phase.step]]", thumbs) if "[[phase.step]]" in text[thumbs:] else len(text)
    block = text[thumbs:end].replace('technique = "circles"', 'technique = "static-pressure"')
    text = text[:thumbs] + block.replace("pressure = 2", "pressure = 1") + text[end:]
    routine = tmp_path / "feather-thumbs.toml"
    routine.write_text(text, encoding="utf-8")
    result = run_cli("check", str(routine), "--json")
    verdict = json.loads(result.stdout)
    assert result.returncode == 1, result.stdout
    assert {(v["rule"], v["step"]) for v in verdict["violations"]} == {
        ("X1", "upper-back.thumbs-spine")
    }


@pytest.mark.parametrize("bone", ["spine", "scapular-spine-left", "iliac-crest-right", "psis-left"])
def test_x1_circles_on_any_bone_are_refused(bone: str) -> None:
    step = make_step(regions=(bone,), contact=Contact.THUMBS, pressure=PressureLevel.LIGHT)
    violations = judge_step(step)
    assert "X1" in broken(violations)
    assert bone in next(v.message for v in violations if v.rule == "X1")


def paraspinal_path(path: tuple[tuple[float, float], ...], pressure: int = 3) -> Step:
    return make_step(
        regions=("paraspinal-upper-left", "paraspinal-upper-right"),
        side=StepSide.BOTH,
        path=path,
        pressure=PressureLevel(pressure),
    )


def test_x1_path_across_the_spine_is_refused() -> None:
    violations = judge_step(paraspinal_path(((-0.12, 0.35), (0.12, 0.35))))
    assert broken(violations) == {"X1"}
    assert "spine" in violations[0].message


def test_x1_feather_sweep_path_across_the_spine_is_allowed() -> None:
    step = paraspinal_path(((-0.12, 0.35), (0.12, 0.35)), pressure=1).model_copy(
        update={"technique": Technique.SWEEP, "contact": Contact.PALMS}
    )
    assert judge_step(step) == []


def test_x1_path_beside_the_spine_is_allowed() -> None:
    step = make_step(regions=("paraspinal-upper-right",), path=((0.06, 0.25), (0.06, 0.55)))
    assert judge_step(step) == []


def test_x1_path_around_the_shoulder_blade_ridge_is_allowed() -> None:
    straight = ((0.5, 0.2), (0.5, 0.36))
    around = ((0.5, 0.2), (0.28, 0.22), (0.28, 0.33), (0.5, 0.37))
    regions = ("upper-trapezius-right", "middle-trapezius-right", "shoulder-blade-right")
    over = make_step(regions=regions, path=straight, check_in=True)
    violations = judge_step(over)
    assert broken(violations) == {"X1"}
    assert "scapular-spine-right" in violations[0].message
    assert judge_step(over.model_copy(update={"path": around})) == []


# ------------------------------------------------------------------ X2: kidneys


def test_x2_percussion_on_the_kidney_area_is_refused() -> None:
    step = make_step(
        regions=("kidney-right",), technique=Technique.PERCUSSION, contact=Contact.LOOSE_FISTS
    )
    assert "X2" in broken(judge_step(step))


@pytest.mark.parametrize(("pressure", "refused"), [(2, False), (3, False), (4, True)])
def test_x2_pressure_over_the_kidneys_capped_at_3(pressure: int, refused: bool) -> None:
    step = make_step(
        regions=("paraspinal-lower-right",),
        phase=PhaseKind.LOWER_BACK,
        technique=Technique.PALM_COMPRESSION,
        pressure=PressureLevel(pressure),
    )
    violations = judge_step(step, history=[warm_up()])
    assert ("X2" in broken(violations)) is refused
    assert broken(violations) <= {"X2"}


def test_x2_percussion_path_into_the_kidney_area_is_refused() -> None:
    step = make_step(
        regions=("paraspinal-upper-right",),
        technique=Technique.PERCUSSION,
        contact=Contact.LOOSE_FISTS,
        pressure=PressureLevel.LIGHT,
        path=((0.1, 0.3), (0.1, 0.7)),
    )
    violations = judge_step(step)
    assert broken(violations) == {"X2"}
    assert "kidney-right" in violations[0].message
    # The same drumming that stops above the kidney zone is fine.
    assert judge_step(step.model_copy(update={"path": ((0.1, 0.3), (0.1, 0.55))})) == []


# ------------------------------------------------------------------ X3: neck


def neck_step(contact: Contact, pressure: int, technique: Technique = Technique.KNEADING) -> Step:
    return make_step(
        phase=PhaseKind.NECK,
        regions=("neck-right",),
        technique=technique,
        contact=contact,
        pressure=PressureLevel(pressure),
    )


@pytest.mark.parametrize("contact", [Contact.FINGERTIPS, Contact.THUMBS])
def test_x3_fingers_or_thumbs_at_2_on_the_neck_are_allowed(contact: Contact) -> None:
    assert judge_step(neck_step(contact, 2)) == []
    assert judge_step(neck_step(contact, 1, Technique.CIRCLES)) == []


@pytest.mark.parametrize("contact", [Contact.FINGERTIPS, Contact.THUMBS])
def test_x3_pressure_3_on_the_neck_is_refused(contact: Contact) -> None:
    violations = judge_step(neck_step(contact, 3))
    assert broken(violations) == {"X3"}
    assert "at most 2" in violations[0].message


@pytest.mark.parametrize(
    "contact", [Contact.PALMS, Contact.HEEL_OF_HAND, Contact.KNUCKLES, Contact.FOREARM]
)
def test_x3_other_contacts_on_the_neck_are_refused(contact: Contact) -> None:
    assert "X3" in broken(judge_step(neck_step(contact, 2)))


def test_x3_palms_only_for_a_feather_sweep() -> None:
    assert judge_step(neck_step(Contact.PALMS, 1, Technique.SWEEP)) == []
    assert broken(judge_step(neck_step(Contact.PALMS, 2, Technique.SWEEP))) == {"X3"}
    assert broken(judge_step(neck_step(Contact.PALMS, 1, Technique.KNEADING))) == {"X3"}


def test_x3_skull_base_counts_as_neck() -> None:
    step = neck_step(Contact.FINGERTIPS, 3).model_copy(update={"regions": ("skull-base-left",)})
    assert broken(judge_step(step)) == {"X3"}


# ------------------------------------------------------------------ X4: headache stop


def test_x4_stop_refuses_any_upper_trapezius_work_but_a_sweep() -> None:
    stopped = SafetyContext(upper_trapezius_stopped=True)
    trap = make_step(
        regions=("upper-trapezius-left",),
        side=StepSide.LEFT,
        technique=Technique.STATIC_PRESSURE,
        contact=Contact.FOREARM,
        pressure=PressureLevel.LIGHT,
    )
    assert broken(judge_step(trap, stopped)) == {"X4"}
    assert judge_step(trap) == []
    sweep = trap.model_copy(
        update={"technique": Technique.SWEEP, "contact": Contact.PALMS, "pressure": 1}
    )
    assert judge_step(sweep, stopped) == []
    # Other areas go on as before.
    assert judge_step(make_step(), stopped) == []


def test_x4_stop_lifts_the_balance_rule_for_the_upper_trapezius() -> None:
    left_only = make_step(
        regions=("upper-trapezius-left",),
        side=StepSide.LEFT,
        technique=Technique.KNEADING,
        contact=Contact.PALMS,
        check_in=True,
    )
    assert check_rule("B1", [left_only]) == [None]
    assert check_rule("B1", [left_only], SafetyContext(upper_trapezius_stopped=True)) == []


# ------------------------------------------------------------------ U4: check-in and overwork


def trap_step(step_id: str, pressure: int = 3, seconds: float = 60, **fields: Any) -> Step:
    values: dict[str, Any] = {
        "regions": ("upper-trapezius-left",),
        "side": StepSide.LEFT,
        "technique": Technique.KNEADING,
        "contact": Contact.PALMS,
        "pressure": PressureLevel(pressure),
        "seconds": seconds,
        "check_in": True,
    }
    values.update(fields)
    return make_step(step_id, **values)


def test_u4_moderate_upper_trapezius_work_needs_a_check_in() -> None:
    assert judge_step(trap_step("t")) == []
    violations = judge_step(trap_step("t", check_in=False))
    assert broken(violations) == {"U4"}
    assert judge_step(trap_step("t", pressure=2, check_in=False)) == []


def test_u4_per_side_limit() -> None:
    within = [trap_step(f"t{n}") for n in range(6)]  # 360 s on the left
    assert check_rule("U4", within) == []
    over = [*within, trap_step("t6")]
    assert check_rule("U4", over) == ["t6"]
    # Light work does not count toward the limit, nor does the other side.
    assert check_rule("U4", [*within, trap_step("light", pressure=2)]) == []
    right = trap_step("right", regions=("upper-trapezius-right",), side=StepSide.RIGHT)
    assert check_rule("U4", [*within, right]) == []


# ------------------------------------------------------------------ U5 and G1: contacts


def test_u5_knot_work_with_fingers_or_thumbs_is_refused() -> None:
    history = [warm_up()]
    for contact in (Contact.FINGERTIPS, Contact.THUMBS):
        violations = judge_step(knot("k", 60, contact=contact), history=history)
        assert broken(violations) == {"U5"}
    assert judge_step(knot("k", 60), history=history) == []


def test_u5_mild_rubbing_of_a_knot_with_fingertips_is_fine() -> None:
    step = rub(knot=True, contact=Contact.FINGERTIPS)
    assert "U5" not in broken(judge_step(step, history=[warm_up()]))


@pytest.mark.parametrize("contact", [Contact.PALMS, Contact.FINGERTIPS, Contact.LOOSE_FISTS])
def test_u5_deep_pressure_needs_a_strong_contact(contact: Contact) -> None:
    violations = judge_step(make_step(contact=contact, pressure=4), history=[warm_up()])
    assert "U5" in broken(violations)


@pytest.mark.parametrize(
    ("contact", "pressure", "fits"),
    [
        (Contact.FINGERTIPS, 3, True),
        (Contact.FINGERTIPS, 4, False),
        (Contact.HEEL_OF_HAND, 1, False),
        (Contact.HEEL_OF_HAND, 4, True),
        (Contact.HEEL_OF_HAND, 5, False),
        (Contact.KNUCKLES, 5, False),
        (Contact.FOREARM, 5, True),
        (Contact.ELBOW, 3, False),
        (Contact.LOOSE_FISTS, 1, False),
    ],
)
def test_g1_each_contact_within_its_range(contact: Contact, pressure: int, fits: bool) -> None:
    step = make_step(contact=contact, pressure=PressureLevel(pressure))
    assert (check_rule("G1", [step]) == []) is fits


# ------------------------------------------------------------------ U6 and U7: the elbow


def forearm_rung(step_id: str = "forearm", **fields: Any) -> Step:
    values: dict[str, Any] = {
        "technique": Technique.STATIC_PRESSURE,
        "contact": Contact.FOREARM,
        "pressure": PressureLevel.FIRM,
        "ladder_rung": 3,
    }
    values.update(fields)
    return knot(step_id, 30, **values)


def elbow(step_id: str = "elbow", pressure: int = 4, **fields: Any) -> Step:
    values: dict[str, Any] = {
        "technique": Technique.STATIC_PRESSURE,
        "contact": Contact.ELBOW,
        "pressure": PressureLevel(pressure),
        "consent": True,
        "ladder_rung": 4,
    }
    values.update(fields)
    return knot(step_id, 30, **values)


def test_u7_elbow_at_4_after_the_forearm_with_consent_passes() -> None:
    assert judge_step(elbow(), history=[warm_up(), forearm_rung()]) == []


def test_u7_elbow_starting_at_5_is_refused() -> None:
    violations = judge_step(elbow(pressure=5), history=[warm_up(), forearm_rung()])
    assert broken(violations) == {"U7"}
    assert "start at 4" in violations[0].message


def test_u7_elbow_may_go_to_5_after_starting_at_4() -> None:
    history = [warm_up(), forearm_rung(), elbow("elbow-4")]
    assert judge_step(elbow("elbow-5", pressure=5), history=history) == []


def test_u6_elbow_on_another_spot_than_the_forearm_is_refused() -> None:
    history = [warm_up(), forearm_rung(regions=("middle-trapezius-left",), side=StepSide.LEFT)]
    # Moving off the forearm's spot also leaves that knot without its aftercare (U9).
    assert broken(judge_step(elbow(), history=history)) == {"U6", "U9"}


def test_u6_elbow_outside_knot_work_is_refused() -> None:
    history = [warm_up(), forearm_rung()]
    # It also leaves the forearm's knot work without its aftercare (U9).
    assert broken(judge_step(elbow(knot=False), history=history)) == {"U6", "U9"}


# ------------------------------------------------------------------ U8: knot bound


@pytest.mark.parametrize(("seconds", "refused"), [(60, False), (120, False), (121, True)])
def test_u8_one_knot_step_bounded_to_120_seconds(seconds: float, refused: bool) -> None:
    steps = [warm_up(), knot("k", seconds), rub()]
    assert check_rule("U8", steps) == (["k"] if refused else [])
    assert ("U8" in broken(judge_step(steps[1], history=steps[:1]))) is refused


@pytest.mark.parametrize(("second", "refused"), [(60, False), (61, True)])
def test_u8_the_bound_covers_every_rung_on_the_same_knot(second: float, refused: bool) -> None:
    steps = [warm_up(), knot("heel", 60), knot("knuckles", second, contact=Contact.KNUCKLES), rub()]
    assert check_rule("U8", steps) == (["knuckles"] if refused else [])


def test_u8_knots_on_different_spots_are_bounded_separately() -> None:
    other = knot("k2", 100, regions=("teres-right",))
    steps = [warm_up(), knot("k1", 100), rub("r1"), other, rub("r2", regions=("teres-right",))]
    assert check_rule("U8", steps) == []


def test_u8_a_custom_knot_limit_applies() -> None:
    steps = [warm_up(), knot("k", 100), rub()]
    assert check_rule("U8", steps, SafetyContext(knot_limit_seconds=90)) == ["k"]


def test_u8_a_short_rub_does_not_reset_the_bound_on_the_same_knot() -> None:
    steps = [warm_up(), knot("k1", 115), rub("r1", seconds=5), knot("k2", 115), rub("r2")]
    assert check_rule("U8", steps) != []


# ------------------------------------------------------------------ U9: aftercare


def test_u9_knot_followed_by_mild_rubbing_on_the_spot_passes() -> None:
    assert check_rule("U9", [warm_up(), knot("k", 60), rub()]) == []
    gentle_kneading = rub(technique=Technique.KNEADING, contact=Contact.PALMS)
    assert check_rule("U9", [warm_up(), knot("k", 60), gentle_kneading]) == []


@pytest.mark.parametrize(
    "follow",
    [
        pytest.param(rub(pressure=PressureLevel.MODERATE), id="too-firm"),
        pytest.param(rub(regions=("teres-right",)), id="elsewhere"),
        pytest.param(make_step("next"), id="more-circles"),
    ],
)
def test_u9_knot_without_aftercare_is_refused(follow: Step) -> None:
    assert check_rule("U9", [warm_up(), knot("k", 60), follow]) == ["k"]


def test_the_live_guard_refuses_a_step_that_leaves_earlier_knot_work_without_aftercare() -> None:
    # U9 names the knot, not the step after it: the guard judges the whole new sequence.
    history = [warm_up(), knot("k", 60)]
    elsewhere = make_step("next", regions=("teres-right",))
    violations = judge_step(elsewhere, history=history)
    assert [(v.rule, v.step) for v in violations] == [("U9", "k")]
    assert judge_step(rub(), history=history) == []


def test_the_live_guard_does_not_blame_a_step_for_what_the_history_broke() -> None:
    # The elbow without consent broke U6 earlier; the aftercare after it is not at fault.
    history = [warm_up(), forearm_rung(), elbow(consent=False)]
    assert "U6" in broken(judge_steps([*history]))
    assert judge_step(rub(regions=("middle-trapezius-right",)), history=history) == []


def test_u9_knot_at_the_end_needs_aftercare_unless_stopped_early() -> None:
    steps = [warm_up(), knot("k", 60)]
    assert check_rule("U9", steps) == ["k"]
    assert check_rule("U9", steps, SafetyContext(require_closing=False)) == []


# ------------------------------------------------------------------ O4: warm-up first


@pytest.mark.parametrize(("passes", "refused"), [(0, True), (1, True), (2, False), (3, False)])
def test_o4_deep_work_needs_two_warm_up_passes(passes: int, refused: bool) -> None:
    history = [warm_up(passes)] if passes else []
    violations = judge_step(make_step(pressure=PressureLevel.FIRM), history=history)
    assert ("O4" in broken(violations)) is refused
    assert broken(violations) <= {"O4"}


def test_o4_warm_up_counts_per_area() -> None:
    upper_only = warm_up(regions=("paraspinal-upper-left", "paraspinal-upper-right"))
    lower = make_step(
        regions=("latissimus-right",), phase=PhaseKind.LOWER_BACK, pressure=PressureLevel.FIRM
    )
    assert "O4" in broken(judge_step(lower, history=[upper_only]))
    assert judge_step(make_step(pressure=PressureLevel.FIRM), history=[upper_only]) == []


def test_o4_knot_work_counts_as_deep() -> None:
    assert "O4" in broken(judge_step(knot("k", 30)))


def test_o4_compressions_outside_the_opening_do_not_count() -> None:
    late = warm_up().model_copy(update={"phase": PhaseKind.UPPER_BACK})
    assert "O4" in broken(judge_step(make_step(pressure=PressureLevel.FIRM), history=[late]))


# ------------------------------------------------------------------ B1: balance


def side_pair(left: float, right: float, base: str = "teres") -> list[Step]:
    return [
        make_step("left", regions=(f"{base}-left",), side=StepSide.LEFT, seconds=left),
        make_step("right", regions=(f"{base}-right",), side=StepSide.RIGHT, seconds=right),
    ]


@pytest.mark.parametrize(
    ("left", "right", "balanced"),
    [
        (100, 100, True),
        (100, 102, True),  # within the 2 s floor
        (100, 103, False),
        (300, 306, True),  # within 2 % of the larger side
        (300, 307, False),
        (0, 2, True),
        (40, 0, False),
    ],
)
def test_b1_balance_within_the_tolerance(left: float, right: float, balanced: bool) -> None:
    steps = side_pair(left, right)
    found = check_rule("B1", steps)
    assert (found == []) is balanced
    assert found in ([], [None])


def test_b1_routines_must_match_to_the_second() -> None:
    routine = built_in_routine("neck-and-shoulders")
    extra = make_step("extra", regions=("teres-left",), side=StepSide.LEFT, seconds=1)
    # The default live tolerance accepts a 1 s difference; judge_routine does not.
    assert check_rule("B1", [*routine.steps, extra]) == []
    exact = SafetyContext(balance_tolerance=0.0, balance_floor_seconds=0.5)
    assert check_rule("B1", [*routine.steps, extra], exact) == [None]


def test_b1_message_names_the_region_and_both_sides() -> None:
    violation = next(iter(RULES_BY_ID["B1"].check(side_pair(40, 0), SafetyContext())))
    assert violation.step is None
    assert "teres" in violation.message
    assert "40 s on the left" in violation.message


def test_b1_steps_on_both_sides_at_once_are_balanced() -> None:
    both = make_step(regions=("teres-left", "teres-right"), side=StepSide.BOTH, seconds=90)
    assert check_rule("B1", [both]) == []


def test_b1_a_side_taken_out_by_screening_does_not_unbalance() -> None:
    right_only = [make_step("right", regions=("neck-right",), phase=PhaseKind.NECK)]
    assert check_rule("B1", right_only) == [None]
    screened = SafetyContext(restrictions=Restrictions(excluded_regions={"neck-left": "bruise"}))
    assert check_rule("B1", right_only, screened) == []
    # Taking out one region leaves the balance of the others in force.
    teres = [make_step("teres", regions=("teres-right",))]
    assert check_rule("B1", [*right_only, *teres], screened) == [None]


# ------------------------------------------------------------------ C1 and C2: closing


def closing(*kinds: str) -> list[Step]:
    made = {
        "compression": dict(technique=Technique.PALM_COMPRESSION, contact=Contact.PALMS),
        "percussion": dict(technique=Technique.PERCUSSION, contact=Contact.LOOSE_FISTS),
        "sweep": dict(technique=Technique.SWEEP, contact=Contact.PALMS, pressure=1),
    }
    fields: dict[str, Any] = {
        "phase": PhaseKind.CLOSING,
        "regions": ("shoulder-blade-left", "shoulder-blade-right"),
        "side": StepSide.BOTH,
        "pressure": PressureLevel.LIGHT,
        "seconds": 30,
    }
    return [
        make_step(f"closing.{n}-{kind}", **{**fields, **made[kind]}) for n, kind in enumerate(kinds)
    ]


NO_PERCUSSION = SafetyContext(
    restrictions=Restrictions(removed_techniques={Technique.PERCUSSION: "asthma"})
)


def test_c1_full_closing_passes() -> None:
    steps = [warm_up(), *closing("compression", "percussion", "sweep")]
    assert check_rule("C1", steps) == []
    # Several steps of one kind in a row are one stage.
    steps = [warm_up(), *closing("compression", "compression", "percussion", "sweep", "sweep")]
    assert check_rule("C1", steps) == []


@pytest.mark.parametrize(
    "kinds",
    [
        ("compression", "sweep", "percussion"),
        ("percussion", "compression", "sweep"),
        ("compression", "percussion"),
        ("sweep",),
        ("compression", "percussion", "sweep", "percussion"),
    ],
)
def test_c1_closing_out_of_order_is_refused(kinds: tuple[str, ...]) -> None:
    steps = [warm_up(), *closing(*kinds)]
    assert check_rule("C1", steps) == [steps[1].id]


def test_c1_closing_without_percussion_only_when_screening_removed_it() -> None:
    steps = [warm_up(), *closing("compression", "sweep")]
    assert check_rule("C1", steps) == [steps[1].id]
    assert check_rule("C1", steps, NO_PERCUSSION) == []
    # With percussion removed, a closing that still has some (struck before a live skip) is
    # still in order; X5 refuses percussion that screening forbade.
    full = [warm_up(), *closing("compression", "percussion", "sweep")]
    assert check_rule("C1", full, NO_PERCUSSION) == []
    assert check_rule("X5", full, NO_PERCUSSION) == [full[2].id]
    backwards = [warm_up(), *closing("compression", "sweep", "percussion")]
    assert check_rule("C1", backwards, NO_PERCUSSION) == [backwards[1].id]


def test_c1_no_closing_at_all_is_refused_unless_stopped_early() -> None:
    steps = [warm_up(), make_step()]
    assert check_rule("C1", steps) == [None]
    assert check_rule("C1", steps, SafetyContext(require_closing=False)) == []


def test_c1_no_closing_passes_only_when_every_part_of_it_was_taken_out() -> None:
    """Pain twice over the whole back in the warm-up leaves nowhere for any closing stroke: the
    engine leaves each part out with a reason, and C1 accepts a session that ends without one."""
    steps = [warm_up(), make_step()]
    every_part = {t: "every region for it was left out" for t in _CLOSING_TECHNIQUES}
    everything = SafetyContext(restrictions=Restrictions(removed_techniques=every_part))
    assert check_rule("C1", steps, everything) == []
    del every_part[Technique.SWEEP]
    some = SafetyContext(restrictions=Restrictions(removed_techniques=every_part))
    assert check_rule("C1", steps, some) == [None]


_CLOSING_TECHNIQUES = (Technique.PALM_COMPRESSION, Technique.PERCUSSION, Technique.SWEEP)


def test_c1_work_after_the_closing_began_is_refused() -> None:
    steps = [warm_up(), *closing("compression", "percussion", "sweep"), make_step("late")]
    assert check_rule("C1", steps) == ["late"]


def test_c1_deep_work_in_the_closing_is_refused() -> None:
    steps = [warm_up(), *closing("compression", "percussion", "sweep")]
    deep = steps[1].model_copy(update={"pressure": PressureLevel.FIRM, "contact": Contact.FOREARM})
    assert check_rule("C1", [steps[0], deep, *steps[2:]]) == [deep.id]


def test_c2_percussion_only_on_the_upper_back() -> None:
    tap = closing("percussion")[0]
    assert judge_step(tap) == []
    low = tap.model_copy(update={"regions": ("latissimus-left", "latissimus-right")})
    violations = judge_step(low)
    assert broken(violations) == {"C2"}
    assert "latissimus-left" in violations[0].message
    neck = tap.model_copy(update={"regions": ("neck-right",)})
    assert "C2" in broken(judge_step(neck))


@pytest.mark.parametrize(
    ("contact", "allowed"),
    [
        (Contact.LOOSE_FISTS, True),
        (Contact.HAND_EDGES, True),
        (Contact.PALMS, False),
        (Contact.FINGERTIPS, False),
        (Contact.KNUCKLES, False),
    ],
)
def test_c2_percussion_with_loose_fists_or_hand_edges(contact: Contact, allowed: bool) -> None:
    tap = closing("percussion")[0].model_copy(update={"contact": contact})
    assert ("C2" not in broken(judge_step(tap))) is allowed


# ------------------------------------------------------------------ judging whole sequences


def test_judge_steps_orders_by_rule_then_step() -> None:
    steps = [
        make_step("a", regions=("spine",), side=StepSide.MIDLINE, contact=Contact.THUMBS),
        make_step("b", regions=("spine",), side=StepSide.MIDLINE, contact=Contact.THUMBS),
    ]
    x1 = [v for v in judge_steps(steps, SafetyContext(require_closing=False)) if v.rule == "X1"]
    assert [v.step for v in x1] == ["a", "b"]
