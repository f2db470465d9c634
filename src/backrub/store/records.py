"""What the store hands out: plain, frozen records, never ORM rows (those stay inside the store)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

SessionStatus = Literal["running", "finished", "stopped"]
EndStatus = Literal["finished", "stopped"]

SESSION_STATUSES: tuple[SessionStatus, ...] = ("running", "finished", "stopped")
END_STATUSES: tuple[EndStatus, ...] = ("finished", "stopped")

# A press's own id, made by the device that pressed it and sent with every try of it (the live
# page makes 32 hex digits); any client may send one made of these characters.
PRESS_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"


@dataclass(frozen=True, slots=True)
class ProfileRecord:
    """A saved receiver: `data` holds the plan request fields to start from next time."""

    id: int
    name: str
    created_at: datetime
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One massage session: its plan (`Plan.to_json()`), where it stands and how many events."""

    id: str
    profile_id: int | None
    created_at: datetime
    status: SessionStatus
    ended_at: datetime | None
    plan: dict[str, Any]
    summary: dict[str, Any] | None
    event_count: int

    @property
    def running(self) -> bool:
        return self.status == "running"


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """A hosted account as the web shows it: never its password hash."""

    id: int
    email: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a log-in checks: the account and its argon2 hash (kept out of AccountRecord)."""

    account_id: int
    email: str
    password_hash: str


@dataclass(frozen=True, slots=True)
class LoginRecord:
    """One logged-in browser, found by the sha256 of its cookie token."""

    token_hash: str
    account_id: int
    email: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime
