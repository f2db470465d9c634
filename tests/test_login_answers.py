"""An ended log-in is forgotten by every server process before the ending replies.

Two stores on one PostgreSQL database, each with the notifier a server process runs: the second
one's notifier is slow to act on what it hears (as a busy process is). Waiting only for one's own
notifier to hear the news let the second process serve the ended log-in from memory for as long
as it was slow (the CI failure of tests/test_web_login_ended.py); every ending now waits for
every listening process's answer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta

import pytest

from backrub.store import Store
from backrub.store.login_cache import LoginCache
from backrub.store.tables import utc_now
from backrub.web.notify import Notifier, libpq_url
from tests.conftest import fresh_postgres_database

SLOW = 0.4  # seconds the second process takes to act on an ended log-in


class _SlowToForget(LoginCache):
    """The second process's cache: it forgets only after a while (a busy process)."""

    def forget(self, news: str) -> None:
        time.sleep(SLOW)
        super().forget(news)


@pytest.fixture
def two_processes(postgres_server: str) -> Iterator[tuple[Store, Store]]:
    with fresh_postgres_database(postgres_server) as url, ExitStack() as stack:
        first = stack.enter_context(Store.open(url))
        second = stack.enter_context(Store.open(url))
        second.logins = _SlowToForget()
        conninfo = libpq_url(url)
        assert conninfo is not None
        for store in (first, second):
            notifier = Notifier(conninfo, lambda news: None, logins=store.logins)
            stack.callback(notifier.close)
            assert store.logins.hearing
        yield first, second


def _logged_in(store: Store, email: str = "a@example.org") -> str:
    account = store.create_account(email, "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g")
    token_hash = f"{account:064x}"
    store.create_login(account, token_hash, "csrf", utc_now() + timedelta(days=1))
    return token_hash


def test_a_log_out_replies_only_once_every_other_process_has_forgotten_it(
    two_processes: tuple[Store, Store],
) -> None:
    first, second = two_processes
    token_hash = _logged_in(first)
    assert second.cached_login(token_hash) is not None
    assert second.logins.get(token_hash) is not None  # kept in the second process's memory

    first.delete_login(token_hash)

    assert second.logins.get(token_hash) is None
    assert second.cached_login(token_hash) is None


def test_a_deleted_account_is_forgotten_everywhere_before_the_deletion_replies(
    two_processes: tuple[Store, Store],
) -> None:
    first, second = two_processes
    token_hash = _logged_in(first)
    account = first.cached_login(token_hash)
    assert account is not None and second.cached_login(token_hash) is not None

    first.delete_account(account.account_id)

    assert second.logins.get(token_hash) is None


def test_an_ending_waits_for_no_process_that_has_gone(two_processes: tuple[Store, Store]) -> None:
    """A listener that is gone cannot answer; the ending looks again and does not wait for it."""
    first, second = two_processes
    token_hash = _logged_in(first)
    looks: list[set[int]] = []
    real = first._login_hearers

    def hearers() -> set[int]:
        found = real() | {999_999}  # a listener that went away before it could answer
        if looks:
            found.discard(999_999)
        looks.append(found)
        return found

    first._login_hearers = hearers  # type: ignore[method-assign]
    assert second.cached_login(token_hash) is not None
    first.delete_login(token_hash)
    assert second.logins.get(token_hash) is None
    assert len(looks) >= 2  # asked again once the answers of those present were in
