"""Sessions: started for a plan, found by an id's first digits, listed, and ended with a summary."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import ScalarSelect, Select, func, select
from sqlalchemy.orm import Session

from backrub.planner.plan import PLAN_SCHEMA
from backrub.store.base import ID_MAX, ID_MIN, StoreBase, _get, _json_object, _owned_by, _owned_row
from backrub.store.errors import StoreError
from backrub.store.records import END_STATUSES, SESSION_STATUSES, EndStatus, SessionRecord
from backrub.store.tables import EventRow, ProfileRow, SessionRow, utc_now

MIN_PREFIX = 4

_SESSION_ID = re.compile(r"[0-9a-f]{4,32}")


class SessionMethods(StoreBase):
    """The store's sessions (part of `Store`)."""

    def start_session(
        self,
        plan_json: dict[str, Any],
        profile_id: int | None = None,
        *,
        account: int | None = None,
    ) -> str:
        """Record a new running session for this plan (`Plan.to_json()`); returns its id.

        The profile, when given, must belong to the same owner."""
        plan_json = _json_object(plan_json, "the plan")
        if plan_json.get("schema") != PLAN_SCHEMA:
            raise StoreError(f'not a backrub plan (expected "schema": "{PLAN_SCHEMA}")')
        session_id = uuid.uuid4().hex
        with self._writing() as db:
            if (
                profile_id is not None
                and _owned_row(_get(db, ProfileRow, profile_id), account) is None
            ):
                raise StoreError(f"no profile {profile_id!r}", where=self.location)
            if account is not None:
                self._account_row(db, account)
            db.add(
                SessionRow(
                    id=session_id,
                    profile_id=profile_id,
                    account_id=account,
                    status="running",
                    plan=plan_json,
                )
            )
        return session_id

    def session(self, session_id: str, *, account: int | None = None) -> SessionRecord:
        with self._reading() as db:
            found = db.execute(_sessions_query(account).where(SessionRow.id == session_id)).first()
            if found is None:
                raise StoreError(f"no session {session_id!r}", where=self.location)
            return _session_record(found[0], found[1])

    def find_session(self, prefix: str, *, account: int | None = None) -> SessionRecord:
        """The owner's one session whose id starts with `prefix` (at least 4 characters)."""
        wanted = prefix.strip().lower()
        if len(wanted) < MIN_PREFIX:
            raise StoreError(
                f"{prefix!r} is too short; give at least {MIN_PREFIX} characters of a session id"
            )
        if not _SESSION_ID.fullmatch(wanted):
            raise StoreError(f"{prefix!r} is not a session id (up to 32 characters 0-9, a-f)")
        with self._reading() as db:
            ids = db.scalars(
                select(SessionRow.id)
                .where(
                    SessionRow.id.startswith(wanted, autoescape=True),
                    _owned_by(SessionRow.account_id, account),
                )
                .order_by(SessionRow.id)
                .limit(4)
            ).all()
        if not ids:
            raise StoreError(f"no session id starts with {wanted!r}", where=self.location)
        if len(ids) > 1:
            shown = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
            raise StoreError(
                f"{wanted!r} matches more than one session ({shown}); give more of the id",
                where=self.location,
            )
        return self.session(ids[0], account=account)

    def sessions(
        self, limit: int = 50, *, profile_id: int | None = None, account: int | None = None
    ) -> list[SessionRecord]:
        """The owner's latest sessions, newest first; only one receiver's with `profile_id`."""
        if limit < 1:
            raise StoreError(f"limit {limit} is out of range; expected at least 1")
        query = _sessions_query(account).order_by(
            SessionRow.created_at.desc(), SessionRow.id.desc()
        )
        if profile_id is not None:
            if not ID_MIN <= profile_id <= ID_MAX:
                return []  # no profile has this id
            query = query.where(SessionRow.profile_id == profile_id)
        with self._reading() as db:
            return [_session_record(row, count) for row, count in db.execute(query.limit(limit))]

    def last_unfinished(self, *, account: int | None = None) -> SessionRecord | None:
        """The owner's newest session still running (to offer to resume it), or None."""
        query = (
            _sessions_query(account)
            .where(SessionRow.status == "running")
            .order_by(SessionRow.created_at.desc(), SessionRow.id.desc())
            .limit(1)
        )
        with self._reading() as db:
            found = db.execute(query).first()
            return None if found is None else _session_record(found[0], found[1])

    def end_session(
        self,
        session_id: str,
        status: EndStatus,
        summary: dict[str, Any],
        *,
        account: int | None = None,
    ) -> None:
        """Mark a running session finished or stopped, with its summary; it takes no more events."""
        if status not in END_STATUSES:
            raise StoreError(f"{status!r} is not how a session ends; expected finished or stopped")
        summary = _json_object(summary, "the summary")
        with self._writing() as db:
            row = self._running_session(db, session_id, account)
            row.status = status
            row.ended_at = utc_now()
            row.summary = summary

    def _session_row(
        self, db: Session, session_id: str, account: int | None, *, for_update: bool = False
    ) -> SessionRow:
        """The owner's session, or "no session" (for someone else's too)."""
        row = _owned_row(db.get(SessionRow, session_id, with_for_update=for_update), account)
        if row is None:
            raise StoreError(f"no session {session_id!r}", where=self.location)
        return row

    def _running_session(self, db: Session, session_id: str, account: int | None) -> SessionRow:
        row = self._session_row(db, session_id, account, for_update=True)
        if row.status != "running":
            raise StoreError(
                f"session {session_id} is {row.status}; it takes no more events or endings",
                where=self.location,
            )
        return row


def _event_count() -> ScalarSelect[int]:
    return (
        select(func.count(EventRow.id))
        .where(EventRow.session_id == SessionRow.id)
        .correlate(SessionRow)
        .scalar_subquery()
    )


def _sessions_query(account: int | None) -> Select[SessionRow, int]:
    return select(SessionRow, _event_count()).where(_owned_by(SessionRow.account_id, account))


def _session_record(row: SessionRow, event_count: int) -> SessionRecord:
    if row.status not in SESSION_STATUSES:
        raise StoreError(f"session {row.id} has an unknown status {row.status!r}")
    return SessionRecord(
        id=row.id,
        profile_id=row.profile_id,
        created_at=row.created_at,
        status=row.status,
        ended_at=row.ended_at,
        plan=row.plan,
        summary=row.summary,
        event_count=event_count,
    )
