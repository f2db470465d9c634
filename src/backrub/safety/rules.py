"""The hard rules of the method, one class each, found by the method element id they enforce.

Step rules judge one step (or stroke) on its own (safety.step_rules); sequence rules judge the
order and totals of a routine, a plan or a live session's history (safety.knot_rules for knot
work, safety.session_rules for the session as a whole). Every rule says which step broke it and
why. This module gathers them in the order they are reported.
"""

from __future__ import annotations

from backrub.safety.knot_rules import (
    AftercareAfterKnot,
    ElbowOnlyAtTheTopOfTheLadder,
    ElbowStartsAtFortyFiveDegrees,
    KnotWorkIsBounded,
    knot_runs,
)
from backrub.safety.rule import (
    KIDNEY_PRESSURE_CAP,
    NECK_PRESSURE_CAP,
    UPPER_TRAPEZIUS,
    FoldedRule,
    Rule,
    Tracker,
    crossed,
    regions_of,
    stroke_paths,
    touches_upper_trapezius,
)
from backrub.safety.session_rules import (
    CheckInOnUpperTrapezius,
    ClosingSequence,
    SidesBalanced,
    WarmUpBeforeDeepWork,
    side_seconds,
    warm_up_areas,
)
from backrub.safety.step_rules import (
    NECK_CONTACTS,
    ContactWithinItsRange,
    DeepPressureNeedsStrongContact,
    GentleNeck,
    HeadacheEndsUpperTrapezius,
    NoPercussionOverKidneys,
    NoPressureOnBone,
    PercussionOnUpperBackOnly,
    ScreeningLimits,
)

__all__ = [
    "KIDNEY_PRESSURE_CAP",
    "NECK_CONTACTS",
    "NECK_PRESSURE_CAP",
    "RULES",
    "RULES_BY_ID",
    "UPPER_TRAPEZIUS",
    "AftercareAfterKnot",
    "CheckInOnUpperTrapezius",
    "ClosingSequence",
    "ContactWithinItsRange",
    "DeepPressureNeedsStrongContact",
    "ElbowOnlyAtTheTopOfTheLadder",
    "ElbowStartsAtFortyFiveDegrees",
    "FoldedRule",
    "GentleNeck",
    "HeadacheEndsUpperTrapezius",
    "KnotWorkIsBounded",
    "NoPercussionOverKidneys",
    "NoPressureOnBone",
    "PercussionOnUpperBackOnly",
    "Rule",
    "ScreeningLimits",
    "SidesBalanced",
    "Tracker",
    "WarmUpBeforeDeepWork",
    "crossed",
    "knot_runs",
    "regions_of",
    "side_seconds",
    "stroke_paths",
    "touches_upper_trapezius",
    "warm_up_areas",
]

RULES: tuple[Rule, ...] = (
    NoPressureOnBone(),
    NoPercussionOverKidneys(),
    GentleNeck(),
    HeadacheEndsUpperTrapezius(),
    ScreeningLimits(),
    DeepPressureNeedsStrongContact(),
    ContactWithinItsRange(),
    CheckInOnUpperTrapezius(),
    ElbowOnlyAtTheTopOfTheLadder(),
    ElbowStartsAtFortyFiveDegrees(),
    KnotWorkIsBounded(),
    AftercareAfterKnot(),
    WarmUpBeforeDeepWork(),
    SidesBalanced(),
    ClosingSequence(),
    PercussionOnUpperBackOnly(),
)
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
