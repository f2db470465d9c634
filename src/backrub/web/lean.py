"""Less memory for each session a server holds: its plan's steps share what is the same.

A plan read from JSON gives every step fresh copies of everything: the set of fields given
(pydantic's `__pydantic_fields_set__`, about 2 KB each with every field given), the region ids,
the cue and the how-to texts. A server holding a thousand live sessions keeps tens of thousands
of steps, so these copies are most of a session's memory. The steps are frozen (nothing
changes them after validation), so equal sets and equal strings are shared instead.
"""

from __future__ import annotations

import sys
from typing import Any

from backrub.method.step import Step
from backrub.planner import Plan

# One set per combination of fields given, shared by every step with that combination. pydantic
# never changes a frozen model's set in place (a copy of a step gets a copy of the set).
_FIELD_SETS: dict[frozenset[str], set[str]] = {}
_TEXTS = ("id", "cue", "how", "pair")


def share(plan: Plan) -> Plan:
    """The same plan, its steps sharing their field sets and texts with other sessions'."""
    for step in plan.steps:
        _share(step)
    return plan


def _share(step: Step) -> None:
    given = frozenset(step.model_fields_set)
    shared = _FIELD_SETS.setdefault(given, set(given))
    object.__setattr__(step, "__pydantic_fields_set__", shared)
    values: dict[str, Any] = step.__dict__
    for name in _TEXTS:
        if isinstance(values.get(name), str):
            values[name] = sys.intern(values[name])
    values["regions"] = tuple(sys.intern(region) for region in step.regions)
    values["method_ids"] = tuple(_interned(method) for method in step.method_ids)


def _interned(value: Any) -> Any:
    return sys.intern(value) if type(value) is str else value
