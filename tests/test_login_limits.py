"""Hosted mode's limits on guessing, on a real store: who waits, who is slowed, who goes on.

The end-to-end tests (test_web_accounts.py) send log-ins from several clients through a real
server; these look at the policy itself, every case of it, quickly (one SQLite file, no argon2
but where a test says so).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, update

from backrub.store import Store
from backrub.store.tables import LoginFailureRow, utc_now
from backrub.web import account_pages, passwords
from backrub.web.errors import NotLoggedIn, TooManyAttempts
from backrub.web.login_limits import (
    CLIENT_FAILURES,
    PAIR_FAILURES,
    SIGN_UPS,
    SLOW_AFTER,
    SLOW_MOST,
    check_attempts,
    check_sign_ups,
    count_failure,
    count_sign_up,
    forget_failures,
    slow_down,
)

EMAIL = "owner@example.org"
ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'limits.db'}") as opened:
        yield opened


def fail(store: Store, times: int, email: str = EMAIL, address: str = ATTACKER) -> None:
    for _ in range(times):
        count_failure(store, email, address)


def refused(store: Store, email: str, address: str) -> TooManyAttempts:
    with pytest.raises(TooManyAttempts) as caught:
        check_attempts(store, email, address)
    return caught.value


def test_a_client_that_failed_for_an_address_waits_and_the_owner_elsewhere_does_not(
    store: Store,
) -> None:
    fail(store, PAIR_FAILURES - 1)
    assert check_attempts(store, EMAIL, ATTACKER) == 0.0  # not yet
    fail(store, 1)
    waiting = refused(store, EMAIL, ATTACKER)
    assert "too many failed log-ins" in waiting.message
    assert 0 < waiting.retry_after <= 15 * 60
    # The owner, from a client that has not failed: slowed down, never refused.
    assert check_attempts(store, EMAIL, OWNER) == slow_down(PAIR_FAILURES) > 0
    # The attacker may still try other addresses (until the per-client limit).
    assert check_attempts(store, "someone@example.org", ATTACKER) == 0.0


def test_many_failures_from_one_client_stop_it_for_every_address(store: Store) -> None:
    for number in range(CLIENT_FAILURES):
        count_failure(store, f"guess-{number}@example.org", ATTACKER)
    refused(store, "never-tried@example.org", ATTACKER)
    assert check_attempts(store, "never-tried@example.org", OWNER) == 0.0


def test_failures_from_many_clients_slow_an_address_down_and_never_lock_it(store: Store) -> None:
    delays = []
    for number in range(60):
        fail(store, 1, address=f"10.0.0.{number}")  # a new client each time: none is refused
        delays.append(check_attempts(store, EMAIL, OWNER))
    assert delays[: SLOW_AFTER - 1] == [0.0] * (SLOW_AFTER - 1)
    assert all(later >= earlier for earlier, later in pairwise(delays))
    assert delays[SLOW_AFTER - 1] > 0 and delays[-1] == SLOW_MOST


def test_the_right_password_forgets_only_that_clients_failures(store: Store) -> None:
    fail(store, PAIR_FAILURES, address=OWNER)
    refused(store, EMAIL, OWNER)
    forget_failures(store, EMAIL, OWNER)  # e.g. a log-in from this client after the wait
    assert check_attempts(store, EMAIL, OWNER) > 0  # the address is still slowed down
    fail(store, PAIR_FAILURES)
    refused(store, EMAIL, ATTACKER)  # and the attacker still waits


def test_failures_are_forgotten_after_the_window(store: Store, tmp_path: Path) -> None:
    fail(store, CLIENT_FAILURES)
    refused(store, EMAIL, ATTACKER)
    engine = create_engine(f"sqlite:///{tmp_path / 'limits.db'}")
    with engine.begin() as db:
        db.execute(update(LoginFailureRow).values(at=utc_now() - timedelta(minutes=16)))
    engine.dispose()
    assert check_attempts(store, EMAIL, ATTACKER) == 0.0


def test_sign_ups_are_limited_per_client(store: Store) -> None:
    for _ in range(SIGN_UPS):
        check_sign_ups(store, ATTACKER)
        count_sign_up(store, ATTACKER)
    with pytest.raises(TooManyAttempts) as caught:
        check_sign_ups(store, ATTACKER)
    assert "too many sign-ups" in caught.value.message and caught.value.retry_after > 0
    check_sign_ups(store, OWNER)  # another client signs up as usual


# ------------------------------------------------------------------------------ argon2 always


class SpyHasher:
    """The real hasher, noting which hash each password was checked against."""

    def __init__(self) -> None:
        self.real = PasswordHasher()
        self.checked: list[str] = []

    def verify(self, password_hash: str, password: str) -> bool:
        self.checked.append(password_hash)
        return self.real.verify(password_hash, password)

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


def test_an_unknown_address_is_checked_with_argon2_against_a_dummy_hash(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So a failed log-in costs the same work, known address or not (the time: bench_web)."""
    store.create_account(EMAIL, passwords.hash_password("the owner's password"))
    spy = SpyHasher()
    monkeypatch.setattr(passwords, "_hasher", lambda: spy)
    for email in ("nobody@example.org", EMAIL):
        with pytest.raises(NotLoggedIn) as caught:
            account_pages._check_password(store, email, "a wrong password", OWNER)
        assert caught.value.message == account_pages.WRONG_LOGIN
    dummy, real = spy.checked
    assert dummy == passwords._dummy_hash() and dummy.startswith("$argon2id$")
    assert real == store.credentials(EMAIL).password_hash  # type: ignore[union-attr]
    assert dummy != real
