"""Hosted mode's limits on guessing: failed log-ins, and sign-ups that probe for addresses.

Failed log-ins are counted in the database (so every worker sees them) for 15 minutes, under
three keys, and the policy is (docs/deploy.md, "Log-in and sign-up limits"):

- per (e-mail address, client): after 5 failures for one address from one client, that client
  waits (429 with Retry-After), even with the right password: its guessing stops there;
- per client: after 20 failures from one client, whatever the addresses, it waits too;
- per e-mail address, from every client together: after 5 failures each further attempt for
  that address is slowed down (1 s, doubling every 5 failures, at most 10 s), never refused.
  So no one can lock an account's owner out by failing from elsewhere: the owner, coming from
  a client that has not failed, logs in with the right password, only a little later; while
  guessing from many clients at once gets slower.

A sign-up answers whether an address has an account (409), so each client may try
`SIGN_UPS` of them (taken or created) per window; then 429 (the trade-off: docs/deploy.md).

The client is the connection's address, or the one the reverse proxy names in
`X-Forwarded-For` when Uvicorn trusts it (FORWARDED_ALLOW_IPS, 127.0.0.1 by default).
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from fastapi import Request

from backrub.store import Store
from backrub.store.tables import EMAIL_LENGTH, utc_now
from backrub.web.errors import TooManyAttempts

WINDOW = timedelta(minutes=15)
PAIR_FAILURES = 5  # failed log-ins per (e-mail address, client) per window
CLIENT_FAILURES = 20  # failed log-ins per client per window, whatever the addresses
SLOW_AFTER = 5  # failures for an address, from every client, before its log-ins slow down
SLOW_START = 1.0  # seconds of the first slow-down; doubled every SLOW_AFTER failures more
SLOW_MOST = 10.0  # seconds at most
SIGN_UPS = 10  # sign-ups (created or refused as taken) per client per window
ADDRESS_MAX = 100  # characters of a client address kept in a key


def _email(email: str) -> str:
    return email.strip().lower()[:EMAIL_LENGTH]


def email_key(email: str) -> str:
    return f"email:{_email(email)}"


def client_key(address: str) -> str:
    return f"ip:{address[:ADDRESS_MAX]}"


def pair_key(email: str, address: str) -> str:
    # Hashed: an address and a client together may be longer than the key column.
    both = f"{_email(email)}\n{address[:ADDRESS_MAX]}".encode()
    return f"pair:{hashlib.sha256(both).hexdigest()}"


def sign_up_key(address: str) -> str:
    return f"signup:{address[:ADDRESS_MAX]}"


def _wait(failures: list[datetime], limit: int, now: datetime) -> int:
    """Whole seconds until fewer than `limit` of these fall in the window; 0 if they do now."""
    if len(failures) < limit:
        return 0
    free_at = failures[-limit] + WINDOW
    return max(1, math.ceil((free_at - now).total_seconds()))


def _refuse(wait: int, what: str) -> TooManyAttempts:
    minutes = max(1, math.ceil(wait / 60))
    return TooManyAttempts(
        f"too many {what} from here; wait {minutes} minute{'s' if minutes > 1 else ''}, "
        "then try again",
        retry_after=wait,
    )


def slow_down(failures: int) -> float:
    """Seconds a log-in for an address with this many recent failures waits before its check."""
    if failures < SLOW_AFTER:
        return 0.0
    doublings = (failures - SLOW_AFTER) // SLOW_AFTER
    return min(SLOW_MOST, SLOW_START * (1 << min(doublings, 10)))


def check_attempts(store: Store, email: str, address: str) -> float:
    """Raise TooManyAttempts while this client has failed too often (for this address, or at
    all); otherwise the seconds to wait before checking the password (0: none).

    Checked before the password, so even the right password waits: guessing stops."""
    now = utc_now()
    since = now - WINDOW
    wait = max(
        _wait(store.login_failures(pair_key(email, address), since=since), PAIR_FAILURES, now),
        _wait(store.login_failures(client_key(address), since=since), CLIENT_FAILURES, now),
    )
    if wait:
        raise _refuse(wait, "failed log-ins")
    return slow_down(len(store.login_failures(email_key(email), since=since)))


def count_failure(store: Store, email: str, address: str) -> None:
    now = utc_now()
    keys = (email_key(email), client_key(address), pair_key(email, address))
    store.record_login_failure(*keys, at=now, forget_before=now - WINDOW)


def forget_failures(store: Store, email: str, address: str) -> None:
    """After the right password: this client's failures for this address are forgotten. The
    address's own count stays for its window (guessing from elsewhere stays slow), and so does
    the client's (logging in to one's own account does not buy more guesses at others')."""
    store.clear_login_failures(pair_key(email, address))


def check_sign_ups(store: Store, address: str) -> None:
    """Raise TooManyAttempts once this client has tried `SIGN_UPS` sign-ups in the window."""
    now = utc_now()
    wait = _wait(store.login_failures(sign_up_key(address), since=now - WINDOW), SIGN_UPS, now)
    if wait:
        raise _refuse(wait, "sign-ups")


def count_sign_up(store: Store, address: str) -> None:
    """A sign-up that said whether the address was free (created, or refused as taken)."""
    now = utc_now()
    store.record_login_failure(sign_up_key(address), at=now, forget_before=now - WINDOW)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
