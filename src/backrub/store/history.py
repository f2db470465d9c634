"""A saved receiver's past, as the planner reads it: digests of their newest sessions, their saved
choices and the sore spots of their newest next-day check-in.

The front ends (`backrub plan --receiver`, the web start and plan pages, the profile page) call
these; the planner itself never touches the store.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from backrub.errors import BackrubError
from backrub.planner import Plan
from backrub.planner.history import SessionDigest
from backrub.session.digest import digest_session
from backrub.store.records import ProfileRecord
from backrub.store.store import Store

HISTORY_SESSIONS = 5  # the receiver's newest sessions the next plan learns from
# Replaying a long session takes a good part of a second, and a stored session with the same
# number of events never changes: digests are kept, keyed by session id and event count.
DIGEST_CACHE_SIZE = 256
_digests: OrderedDict[tuple[str, int], SessionDigest] = OrderedDict()
_digests_lock = threading.Lock()
# The profile fields (the web start form's `Intake.remembered()`) that are plan request fields.
SAVED_CHOICES = ("minutes", "activities", "trouble_spots", "pressure", "order", "routine")


def receiver_history(
    store: Store, profile_id: int, *, account: int | None = None, limit: int = HISTORY_SESSIONS
) -> list[SessionDigest]:
    """Digests of the receiver's newest sessions (any status), newest first.

    A session whose plan or events cannot be read back is passed over: it teaches nothing, and
    one damaged row must not stop the next plan."""
    digests = []
    # The store checks ownership here; the cache below only holds what an owner was given.
    for record in store.sessions(limit, profile_id=profile_id, account=account):
        key = (record.id, record.event_count)
        with _digests_lock:
            cached = _digests.get(key)
        if cached is None:
            try:
                plan = Plan.from_json(record.plan)
                events = store.events(record.id, account=account)
                cached = digest_session(
                    plan, events, session_id=record.id, started_at=record.created_at
                )
            except (BackrubError, ValueError, KeyError, TypeError):
                continue
            with _digests_lock:
                _digests[key] = cached
                while len(_digests) > DIGEST_CACHE_SIZE:
                    _digests.popitem(last=False)
        digests.append(cached)
    return digests


def pending_sore_spots(data: Mapping[str, Any]) -> list[str]:
    """The regions sore at the newest check-in, unless a plan has already taken them in."""
    check_ins = data.get("check_ins", [])
    if not check_ins:
        return []
    newest = check_ins[-1]
    if newest.get("used_by"):
        return []  # already taken into a plan
    return list(newest.get("regions", []))


def saved_choices(record: ProfileRecord) -> dict[str, Any]:
    """The receiver's saved choices and pending sore spots, as plan request fields."""
    data = {key: record.data[key] for key in SAVED_CHOICES if key in record.data}
    sore = pending_sore_spots(record.data)
    if sore:
        data["sore_spots"] = sore
    return data


def mark_check_in_used(
    store: Store, record: ProfileRecord, session_id: str, *, account: int | None = None
) -> None:
    """Note that the newest check-in's sore spots went into this session's plan."""
    check_ins = list(record.data.get("check_ins", []))
    if check_ins and not check_ins[-1].get("used_by"):
        check_ins[-1] = {**check_ins[-1], "used_by": session_id}
        store.update_profile(record.id, {**record.data, "check_ins": check_ins}, account=account)
