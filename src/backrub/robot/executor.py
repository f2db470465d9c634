"""From a plan to a checked tool path: judge the plan, sample it, check every sample."""

from __future__ import annotations

import re

from backrub.atlas import Atlas, default_atlas
from backrub.planner import Plan, PlanStatus
from backrub.robot.caps import Breach, first_breach
from backrub.robot.figures import Figures
from backrub.robot.sampler import DEFAULT_RATE_HZ, sample_plan
from backrub.robot.toolpath import ToolPath
from backrub.safety.context import SafetyContext
from backrub.safety.judge import judge_plan
from backrub.safety.violation import Violation


class UnsafePlanError(Exception):
    """The robot refuses the plan: a rule or a cap is broken, named with region and time."""

    def __init__(self, breach: Breach) -> None:
        self.breach = breach
        super().__init__(breach.one_line())


def _region_named(message: str, plan_regions: tuple[str, ...], atlas: Atlas) -> str:
    """The region a rule's message names (bone crossed, kidney...), else the step's first."""
    names = sorted(atlas.region_ids, key=len, reverse=True)
    found = re.search("|".join(re.escape(name) for name in names), message)
    if found:
        return found.group(0)
    return plan_regions[0] if plan_regions else "none"


def violation_breach(plan: Plan, violation: Violation, atlas: Atlas) -> Breach:
    starts = plan.starts()
    index = next(
        (number for number, step in enumerate(plan.steps) if step.id == violation.step), None
    )
    regions = plan.steps[index].regions if index is not None else ()
    return Breach(
        cap=violation.title,
        rule=violation.rule,
        region=_region_named(violation.message, regions, atlas),
        time=starts[index] if index is not None else 0.0,
        step=violation.step or "-",
        message=violation.message,
    )


def plan_path(
    plan: Plan,
    *,
    rate_hz: float = DEFAULT_RATE_HZ,
    figures: Figures | None = None,
    atlas: Atlas | None = None,
) -> ToolPath:
    """The plan as a tool path with every sample under every cap, or UnsafePlanError.

    A plan that screening refused, or that breaks a hard rule of the method, is refused before
    sampling (at the start of the step that breaks it); then every sample is checked.
    """
    atlas = atlas or default_atlas()
    if plan.status is PlanStatus.REFUSED:
        raise UnsafePlanError(
            Breach(
                cap="screening",
                rule="X5",
                region="none",
                time=0.0,
                step="-",
                message="screening refused this session: " + plan.screening.summary(),
            )
        )
    if not plan.steps:
        raise ValueError("the plan has no steps")
    violations = judge_plan(plan, SafetyContext(atlas=atlas))
    if violations:
        raise UnsafePlanError(violation_breach(plan, violations[0], atlas))
    path = sample_plan(plan, rate_hz=rate_hz, figures=figures, atlas=atlas)
    breach = first_breach(path)
    if breach is not None:
        raise UnsafePlanError(breach)
    return path
