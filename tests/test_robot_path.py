"""The sampled tool path: motion per technique, force shaped under the caps, refusals."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backrub.atlas import Tissue
from backrub.method.step import Step
from backrub.method.vocabulary import Contact, PhaseKind, PressureLevel, StepSide, Technique
from backrub.planner import Plan, PlanRequest, make_plan
from backrub.robot import UnsafePlanError, breaches, count_over, plan_path, sample_plan
from backrub.robot.regions import region_grid
from backrub.robot.sampler import forward_minimum, rate_limited
from backrub.robot.surface import BackSurface
from backrub.robot.toolpath import ToolPath, contact_code, technique_code
from backrub.safety.screening import ScreeningAnswers

RATE = 200.0


@cache
def plan(minutes: float = 8, **fields: object) -> Plan:
    return make_plan(PlanRequest(minutes=minutes, **fields))  # type: ignore[arg-type]


@cache
def path(minutes: float = 8) -> ToolPath:
    return plan_path(plan(minutes), rate_hz=RATE)


def one_step_plan(**fields: object) -> Plan:
    """A real plan's request and screening with a single step of our own."""
    values: dict[str, object] = {
        "id": "test.step",
        "phase": PhaseKind.UPPER_BACK,
        "regions": ("paraspinal-upper-right",),
        "side": StepSide.RIGHT,
        "technique": Technique.CIRCLES,
        "contact": Contact.HEEL_OF_HAND,
        "pressure": PressureLevel.MODERATE,
        "seconds": 20.0,
        "check_in": True,
    }
    values.update(fields)
    return plan().model_copy(update={"steps": (Step.model_validate(values),)})


def test_a_plan_is_sampled_at_the_rate_with_no_sample_over_a_cap() -> None:
    tool = path()
    assert np.allclose(np.diff(tool.t), 1 / RATE)
    assert tool.duration == pytest.approx(plan().total_seconds, abs=2 / RATE)
    assert breaches(tool) == [] and count_over(tool) == 0
    assert tool.force.max() > 10 and tool.touching.mean() > 0.5


def test_the_tool_centre_sits_one_radius_out_along_the_normal() -> None:
    tool = path()
    surface = BackSurface(plan().request.fit)
    on = tool.working & (tool.lift == 0)
    radius = tool.context.radii_m[tool.contact[on]]
    skin = tool.position[on] - tool.normal[on] * radius[:, None]
    assert np.allclose(skin[:, 2], surface.height(skin[:, 0], skin[:, 1]), atol=1e-9)
    lifted = ~tool.working
    assert tool.force[lifted].max() == 0 and tool.lift[lifted].max() == pytest.approx(
        0.03, abs=1e-3
    )


def test_force_rises_at_most_20_newtons_a_second_and_only_eases_off_faster() -> None:
    tool = path()
    rates = np.diff(tool.force) * RATE
    striking = tool.technique[1:] == technique_code(Technique.PERCUSSION)
    assert rates[~striking].max() <= 20 + 1e-6
    assert rates.min() < -20  # easing off at the end of a line is quicker than rising


def _rhythm(tool: ToolPath, technique: Technique) -> float:
    """Cycles per second of the tool's circling during one technique: zero crossings of its
    sideways motion less its travel (a one-second moving average), on the step where it circles
    widest (near bone the circles are kept small)."""
    chosen = tool.working & (tool.technique == technique_code(technique))
    window = np.ones(int(tool.rate_hz)) / tool.rate_hz

    def circling(step: int) -> np.ndarray:
        x = tool.frame_xy[chosen & (tool.step == step), 0]
        return np.asarray((x - np.convolve(x, window, mode="same"))[len(window) : -len(window)])

    widest = max(np.unique(tool.step[chosen]), key=lambda step: np.std(circling(step)))
    wobble = circling(widest)
    crossings = np.count_nonzero(np.diff(np.sign(wobble)) > 0)
    return crossings / (len(wobble) / tool.rate_hz)


def test_each_technique_moves_in_its_rhythm() -> None:
    tool = plan_path(plan(20), rate_hz=RATE)
    # Counted over a whole line of work, so a part cycle at the end may shave a little off.
    assert 0.95 <= _rhythm(tool, Technique.KNEADING) <= 2.7
    assert 0.95 <= _rhythm(tool, Technique.CIRCLES) <= 2.7
    # Sweeps travel the line at about 3 cm/s on average, never faster than 10 cm/s.
    sweeping = tool.touching & (tool.technique == technique_code(Technique.SWEEP))
    assert 0.02 <= tool.speed[sweeping].mean() <= 0.045 and tool.speed[sweeping].max() <= 0.10
    # Percussion strikes 4-10 times a second, leaving the skin between strikes.
    struck = tool.working & (tool.technique == technique_code(Technique.PERCUSSION))
    index = np.flatnonzero(struck & (tool.step == tool.step[struck][0]))
    touching = tool.touching[index]
    strikes = np.count_nonzero(np.diff(touching.astype(int)) > 0) / (len(index) / RATE)
    assert 4 <= strikes <= 10
    assert tool.speed.max() <= 0.25


def test_force_lightens_over_the_kidney_area_and_bone_then_ramps_back() -> None:
    # Moderate work on the lower back's paraspinal line passes over the kidney area (a rule
    # allows moderate there; the robot keeps it light), then back onto plain muscle.
    tool = sample_plan(
        one_step_plan(
            regions=("paraspinal-lower-right",),
            phase=PhaseKind.LOWER_BACK,
            technique=Technique.PALM_COMPRESSION,
            contact=Contact.HEEL_OF_HAND,
            seconds=60.0,
        ),
        rate_hz=RATE,
    )
    assert breaches(tool) == []
    grid = region_grid()
    kidney = grid.tissue_mask(Tissue.CAUTION)[tool.region] & tool.touching
    assert kidney.any() and tool.force[kidney].max() <= 15.0 + 1e-9
    muscle = grid.tissue_mask(Tissue.MUSCLE)[tool.region] & tool.touching
    assert tool.force[muscle].max() == pytest.approx(22.5)


def test_a_plan_breaking_a_rule_is_refused_naming_rule_region_and_time() -> None:
    unsafe = one_step_plan(regions=("spine",), side=StepSide.MIDLINE, contact=Contact.PALMS)
    with pytest.raises(UnsafePlanError) as refused:
        plan_path(unsafe, rate_hz=RATE)
    breach = refused.value.breach
    assert (breach.rule, breach.region, breach.time, breach.step) == (
        "X1",
        "spine",
        0.0,
        "test.step",
    )


def test_a_plan_screening_refused_is_not_sampled() -> None:
    refused = make_plan(
        PlanRequest(minutes=10, screening=ScreeningAnswers(yes=frozenset({"fever-or-infection"})))
    )
    with pytest.raises(UnsafePlanError, match="X5"):
        plan_path(refused)


@pytest.mark.parametrize(
    ("rule", "tissue_or_area", "contact", "force"),
    [
        ("X1", "bone", Contact.PALMS, 10.5),
        ("X2", "caution", Contact.PALMS, 15.5),
        ("G1", None, Contact.THUMBS, 20.5),
        ("ISO/TS 15066", None, Contact.FOREARM, 106.0),
    ],
)
def test_each_force_cap_names_itself_the_region_and_the_time(
    rule: str, tissue_or_area: str | None, contact: Contact, force: float
) -> None:
    tool = path()
    grid = region_grid()
    wanted = np.flatnonzero(tool.touching)
    if tissue_or_area is not None:
        on = grid.tissue_mask(Tissue(tissue_or_area))[tool.region]
        wanted = np.flatnonzero(on & tool.touching)
        if len(wanted) == 0:  # put the tool on such a region for the test
            region = next(i for i, kind in enumerate(grid.tissue) if kind.value == tissue_or_area)
            wanted = np.flatnonzero(tool.touching)[:1]
            tool = replace(
                tool,
                region=np.where(np.arange(len(tool)) == wanted[0], region, tool.region).astype(
                    np.int16
                ),
            )
    index = int(wanted[len(wanted) // 2])
    forces = tool.force.copy()
    forces[index] = force
    # A smooth rise to the bad force would not trip the rate cap first; only the cap itself.
    contacts = tool.contact.copy()
    contacts[index] = contact_code(contact)
    broken = replace(tool, force=forces, contact=contacts)
    found = [b for b in breaches(broken) if b.rule == rule]
    assert found, breaches(broken)
    assert found[0].time == pytest.approx(tool.t[index])
    assert found[0].region == grid.name(int(tool.region[index]))
    assert count_over(path()) == 0


def test_speed_and_percussion_caps_name_themselves() -> None:
    tool = path()
    speeds = tool.speed.copy()
    speeds[100] = 0.3
    assert [b.cap for b in breaches(replace(tool, speed=speeds))] == ["tool speed"]
    lower = np.flatnonzero(tool.touching & (tool.region >= 0))
    grid = region_grid()
    lower = [i for i in lower if grid.area[tool.region[i]].value == "lower-back"]
    techniques = tool.technique.copy()
    techniques[lower[0]] = technique_code(Technique.PERCUSSION)
    found = breaches(replace(tool, technique=techniques))
    assert "C2" in [b.rule for b in found]


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(st.floats(0, 100), min_size=1, max_size=60), st.integers(1, 20))
def test_forward_minimum_is_the_least_of_the_next_window(values: list[float], window: int) -> None:
    found = forward_minimum(np.array(values), window)
    assert found.tolist() == [min(values[i : i + window]) for i in range(len(values))]


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(st.floats(0, 100), min_size=2, max_size=60))
def test_the_rate_limit_keeps_force_under_target_and_rises_slowly(values: list[float]) -> None:
    target = np.array([0.0, *values])
    t = np.arange(len(target)) / 10.0
    force = rate_limited(target, t, 20.0)
    assert (force <= target + 1e-9).all()
    assert (np.diff(force) <= 2.0 + 1e-9).all()  # 20 N/s at 10 Hz
