"""Planner: a receiver profile, a time budget and an order in; a timed, balanced Plan out."""

from backrub.planner.plan import PLAN_SCHEMA, PLAN_VERSION, LeftOut, Plan, PlanStatus
from backrub.planner.planner import make_plan
from backrub.planner.request import MAX_MINUTES, MIN_MINUTES, Order, PlanRequest

__all__ = [
    "MAX_MINUTES",
    "MIN_MINUTES",
    "PLAN_SCHEMA",
    "PLAN_VERSION",
    "LeftOut",
    "Order",
    "Plan",
    "PlanRequest",
    "PlanStatus",
    "make_plan",
]
