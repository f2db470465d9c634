"""Hard safety rules and screening: judge a routine, a plan, a step or a stroke, naming the rule."""

from backrub.safety.context import SafetyContext
from backrub.safety.judge import judge_plan, judge_routine, judge_step, judge_steps, judge_stroke
from backrub.safety.restrictions import Restrictions
from backrub.safety.rules import RULES, RULES_BY_ID, Rule
from backrub.safety.sequence import SequenceJudge
from backrub.safety.violation import Violation

__all__ = [
    "RULES",
    "RULES_BY_ID",
    "Restrictions",
    "Rule",
    "SafetyContext",
    "SequenceJudge",
    "Violation",
    "judge_plan",
    "judge_routine",
    "judge_step",
    "judge_steps",
    "judge_stroke",
]
