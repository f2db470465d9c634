"""Receivers as the web shows them: saved preferences, past sessions, knots over time, soreness.

A profile's `data` keeps the start form's preferences (`Intake.remembered`), the last screening
answers under "screening" (`starting.saved_answers`) and a list of next-day check-ins under
"check_ins"; the newest check-in's sore regions go into the next plan.

Every function takes the owner, `account` (None in local mode), and passes it to the store: a
profile or session of another account is "not found", like one that does not exist.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from backrub.store import ProfileRecord, SessionRecord, Store, StoreError, StoreUnavailable
from backrub.store.history import pending_sore_spots
from backrub.web.hub import NotFound

KNOT_HISTORY = 20  # sessions looked back on for the knots-over-time map
# Kept in a profile's data beside the preferences, and shown apart from them.
NOT_PREFERENCES = frozenset({"check_ins", "screening"})


def find_profile(
    store: Store, profile_id: int, *, account: int | None, field: str | None = None
) -> ProfileRecord:
    try:
        return store.profile(profile_id, account=account)
    except StoreUnavailable:
        raise  # away for a moment, not missing: 503
    except StoreError:
        raise NotFound(f"no profile {profile_id}", where=field) from None


def find_session(store: Store, session_id: str, *, account: int | None) -> SessionRecord:
    try:
        return store.session(session_id, account=account)
    except StoreUnavailable:
        raise  # away for a moment, not missing: 503
    except StoreError:
        raise NotFound(f"no session {session_id!r}") from None


def profile_json(record: ProfileRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "created_at": record.created_at.isoformat(),
        "preferences": {k: v for k, v in record.data.items() if k not in NOT_PREFERENCES},
        "screening": record.data.get("screening"),
        "check_ins": list(record.data.get("check_ins", [])),
        "sore_spots": sore_spots(record),
    }


def sore_spots(record: ProfileRecord) -> list[str]:
    """The regions sore at the newest check-in made after the last session, if any."""
    return pending_sore_spots(record.data)


def save_check_in(
    store: Store, record: ProfileRecord, regions: list[str], *, account: int | None
) -> ProfileRecord:
    data = dict(record.data)
    check_ins = list(data.get("check_ins", []))
    check_ins.append({"at": datetime.now(UTC).isoformat(), "regions": regions, "used_by": None})
    data["check_ins"] = check_ins[-50:]
    store.update_profile(record.id, data, account=account)
    return store.profile(record.id, account=account)


def remember(
    store: Store, name: str, preferences: dict[str, Any], *, account: int | None
) -> ProfileRecord:
    """Create the owner's profile, or update theirs of that name, with today's preferences."""
    try:
        record = store.profile(name, account=account)
    except StoreError:
        created = store.create_profile(name, preferences, account=account)
        return store.profile(created, account=account)
    store.update_profile(record.id, {**record.data, **preferences}, account=account)
    return store.profile(record.id, account=account)


def knots_over_time(store: Store, profile_id: int, *, account: int | None) -> dict[str, Any]:
    """Where knots were found in this receiver's recent sessions, and how often."""
    sessions = store.sessions(KNOT_HISTORY, profile_id=profile_id, account=account)
    counts: Counter[str] = Counter()
    found: list[dict[str, Any]] = []
    for record in sessions:
        for knot in (record.summary or {}).get("knots", []):
            counts[knot["region"]] += 1
            found.append(
                {
                    "session": record.id,
                    "date": record.created_at.date().isoformat(),
                    "region": knot["region"],
                    "outcome": knot["outcome"],
                }
            )
    return {"sessions": len(sessions), "counts": dict(counts), "knots": found}


def session_json(record: SessionRecord) -> dict[str, Any]:
    plan = record.plan
    request = plan.get("request", {})
    return {
        "id": record.id,
        "profile_id": record.profile_id,
        "created_at": record.created_at.isoformat(),
        "ended_at": record.ended_at.isoformat() if record.ended_at else None,
        "status": record.status,
        "minutes": request.get("minutes"),
        "receiver": request.get("receiver"),
        "events": record.event_count,
        "worked_seconds": (record.summary or {}).get("worked_seconds"),
    }
