"""From a filled-in start form (or API body) to a plan, and from a plan to a running session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from backrub.errors import BackrubError, PlanningError
from backrub.planner import Plan, PlanStatus, make_plan
from backrub.store import ProfileRecord, Store
from backrub.store.history import mark_check_in_used, receiver_history
from backrub.web.hub import Hub
from backrub.web.intake import Intake
from backrub.web.people import find_profile, remember


class Refused(BackrubError):
    """Screening says no massage today (or not before a professional has looked)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        super().__init__(plan.screening.summary(), where="yes")


@dataclass(frozen=True)
class Planned:
    plan: Plan
    profile: ProfileRecord | None


def screening_json(plan: Plan) -> dict[str, Any]:
    screening = plan.screening
    return {
        "outcome": screening.outcome.value,
        "heading": screening.outcome.heading,
        "summary": screening.summary(),
        "emergency": screening.emergency,
        "allows_session": screening.allows_session,
        "findings": [
            {
                "label": finding.label,
                "outcome": finding.outcome.value,
                "reason": finding.reason,
                "regions": list(finding.regions),
            }
            for finding in screening.findings
        ],
    }


def saved_answers(intake: Intake) -> dict[str, Any]:
    """What a receiver keeps for next time: the preferences and today's screening answers, with
    when they were given. The start page asks "anything changed since last time?" over them, and
    a saved answer that stops or restricts a session still does (the form carries it back)."""
    screening = {"yes": intake.yes, "local": intake.local, "at": datetime.now(UTC).isoformat()}
    return {**intake.remembered(), "screening": screening}


def plan_for(
    store: Store, intake: Intake, *, account: int | None, save_profile: bool = False
) -> Planned:
    """The plan for this intake. Raises BackrubError naming the field (minutes, profile_id...).

    `account` owns the profile used or saved (None: local mode's unowned profiles)."""
    profile = (
        find_profile(store, intake.profile_id, account=account, field="profile_id")
        if intake.profile_id is not None
        else None
    )
    if profile is None and intake.profile_name and save_profile:
        profile = remember(store, intake.profile_name, saved_answers(intake), account=account)
    elif profile is not None and save_profile:
        data = {**profile.data, **saved_answers(intake)}
        store.update_profile(profile.id, data, account=account)
        profile = store.profile(profile.id, account=account)
    receiver = profile.name if profile else intake.profile_name or None
    # A saved receiver's past sessions teach the plan (planner.history; the notes say what).
    history = receiver_history(store, profile.id, account=account) if profile else []
    try:
        plan = make_plan(intake.plan_request(receiver=receiver), history=history)
    except PlanningError as error:
        raise BackrubError(error.message, where="minutes") from None
    return Planned(plan, profile)


def start_session(hub: Hub, intake: Intake, *, account: int | None) -> str:
    """Plan, save the receiver's preferences, and start the owner's session; returns its id."""
    planned = plan_for(hub.store, intake, account=account, save_profile=True)
    if planned.plan.status is PlanStatus.REFUSED:
        raise Refused(planned.plan)
    profile = planned.profile
    session_id = hub.start(
        planned.plan, profile_id=profile.id if profile else None, account=account
    )
    if profile is not None and intake.sore_spots:
        mark_check_in_used(hub.store, profile, session_id, account=account)
    return session_id
