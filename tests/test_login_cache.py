"""The log-ins a server process keeps in memory (store/login_cache.py): kept only while every
ending is heard, and never one that a read found just before it ended."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from backrub.store.login_cache import (
    HEARD_WITHIN,
    KEEP_SECONDS,
    LoginCache,
    account_news,
    token_news,
)
from backrub.store.records import LoginRecord
from tests.clock import Clock


def _record(token: str, account: int = 1) -> LoginRecord:
    now = datetime.now(UTC)
    return LoginRecord(
        token_hash=token,
        account_id=account,
        email=f"a{account}@example.org",
        csrf_token="csrf",
        created_at=now,
        expires_at=now + timedelta(days=1),
    )


def _hearing(clock: Clock | None = None) -> LoginCache:
    cache = LoginCache(clock or Clock())
    cache.hears(True)
    return cache


def test_a_log_in_read_is_kept_while_hearing_and_forgotten_when_its_ending_is_heard() -> None:
    cache = _hearing()
    cache.keep(_record("a"), cache.generation())
    assert cache.get("a") is not None
    cache.forget(token_news("a"))
    assert cache.get("a") is None


def test_a_read_that_began_before_an_ending_is_not_kept() -> None:
    """The read may have found the row just before it was deleted: keeping it would let an
    ended log-in in until it is read again."""
    cache = _hearing()
    began = cache.generation()
    cache.forget(token_news("b"))  # any log-in ended meanwhile, here or elsewhere
    cache.keep(_record("a"), began)
    assert cache.get("a") is None


def test_nothing_is_kept_while_not_hearing_and_all_is_forgotten_when_hearing_changes() -> None:
    cache = LoginCache(Clock())
    cache.keep(_record("a"), cache.generation())
    assert cache.get("a") is None
    cache.hears(True)
    cache.keep(_record("a"), cache.generation())
    assert cache.get("a") is not None
    cache.hears(False)  # the notifier's connection broke: endings may go unheard
    assert cache.get("a") is None
    cache.hears(True)  # listening again: what was kept before is not trusted
    assert cache.get("a") is None


def test_an_account_ending_forgets_its_log_ins_only() -> None:
    cache = _hearing()
    for token, account in (("a", 1), ("b", 1), ("c", 2)):
        cache.keep(_record(token, account), cache.generation())
    cache.forget(account_news(1))
    assert [cache.get(token) is not None for token in "abc"] == [False, False, True]


def test_news_that_is_not_understood_forgets_everything() -> None:
    cache = _hearing()
    cache.keep(_record("a"), cache.generation())
    cache.forget("something else")
    assert cache.get("a") is None


def test_a_kept_log_in_is_read_again_after_a_while() -> None:
    """A row deleted behind the store's back (an operator's SQL) announces nothing."""
    clock = Clock()
    cache = _hearing(clock)
    cache.keep(_record("a"), cache.generation())
    clock.now = KEEP_SECONDS - 1
    assert cache.get("a") is not None
    clock.now = KEEP_SECONDS
    assert cache.get("a") is None


def test_an_ending_waits_until_every_hearer_has_answered() -> None:
    cache = _hearing()
    news = token_news("a")
    cache.expect(news)
    cache.answered(news, 1)
    cache.answered(news, 2)
    cache.answered(token_news("a"), 3)  # another ending's answer does not count for this one
    assert cache.wait_answers(news, lambda: {1, 2}) == set()


def test_an_answer_arriving_while_the_ending_waits_ends_the_wait() -> None:
    cache = _hearing()
    news = account_news(7)
    cache.expect(news)
    answering = threading.Timer(0.05, cache.answered, (news, 1))
    answering.start()
    assert cache.wait_answers(news, lambda: {1}) == set()
    answering.join()


def test_a_hearer_that_never_answers_is_named_once_the_wait_is_over() -> None:
    clock = Clock()
    cache = _hearing(clock)
    news = token_news("a")
    cache.expect(news)
    cache.answered(news, 1)

    def hearers() -> set[int]:
        clock.now += HEARD_WITHIN / 2  # each look at the database takes time
        return {1, 2}

    assert cache.wait_answers(news, hearers) == {2}


def test_a_hearer_that_went_away_is_not_waited_for() -> None:
    cache = _hearing()
    news = token_news("a")
    cache.expect(news)
    cache.answered(news, 1)
    looks = iter([{1, 2}, {1}])  # the second look: process 2's connection is gone
    assert cache.wait_answers(news, lambda: next(looks)) == set()


def test_nothing_is_awaited_when_this_process_does_not_hear() -> None:
    deaf = LoginCache(Clock())
    news = token_news("a")
    deaf.expect(news)
    # its notifier could not pass answers on: a stuck clock and silent hearers would hang
    assert deaf.wait_answers(news, lambda: {1, 2}) == set()
