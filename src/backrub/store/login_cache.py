"""Log-ins kept in memory between requests, for as long as every change to them is heard.

Hosted mode looks up the log-in behind every request (web/auth.py's gate): a database round
trip per press. While this process hears the other processes' news on PostgreSQL (the notifier,
web/notify.py), the store keeps the log-ins it has read here. Every way the store ends a log-in
(a log-out, a new log-in on the same browser, an account deleted with its log-ins) announces it
on `LOGIN_CHANNEL` inside its own transaction, so every process hears it once it is committed,
and this process forgets it at once. An expired log-in is refused from memory too (its
`expires_at` is kept).

Exactness:
- Nothing is kept while the notifier does not listen, and everything is forgotten when it stops
  or listens again (news sent meanwhile is lost).
- A read that began before a log-in was forgotten is not kept (the generation counter): it may
  have found the row just before its deletion.
- A process that ends a log-in waits (briefly) until its own notifier hears the news, so the
  other processes' notifiers have been sent it before the reply reaches the browser.
- A row deleted behind the store's back (an operator's SQL) is read again after `KEEP_SECONDS`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from backrub.store.records import LoginRecord

# The PostgreSQL channel on which an ended log-in is announced: "token HASH" or "account ID".
LOGIN_CHANNEL = "backrub_login"
KEEP_SECONDS = 60.0  # a kept log-in is read again after this long, whatever was heard
KEEP_MAX = 100_000  # log-ins kept at most; past that, all are forgotten and read again
HEARD_WITHIN = 1.0  # seconds an ending waits for its own news to come back


def token_news(token_hash: str) -> str:
    return f"token {token_hash}"


def account_news(account_id: int) -> str:
    return f"account {account_id}"


class LoginCache:
    """Log-ins by token hash, kept only while `hearing` (see the module's docstring)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._heard = threading.Condition(self._lock)
        self._kept: dict[str, tuple[LoginRecord, float]] = {}
        self._generation = 0  # goes up at every forgetting: older reads are not kept
        self._news: dict[str, int] = {}  # news heard, and how often (for `wait_heard`)
        self.hearing = False

    def generation(self) -> int:
        """Take this before reading a log-in from the database; give it to `keep`."""
        with self._lock:
            return self._generation

    def get(self, token_hash: str) -> LoginRecord | None:
        """The kept log-in, or None (not kept, kept too long, or not hearing: read it)."""
        if not self.hearing:
            return None
        found = self._kept.get(token_hash)
        if found is None or self._monotonic() - found[1] >= KEEP_SECONDS:
            return None
        return found[0]

    def keep(self, record: LoginRecord, generation: int) -> None:
        """Keep a log-in read from the database by a read that began at `generation`."""
        with self._lock:
            if not self.hearing or generation != self._generation:
                return  # a log-in may have ended since the read began
            if len(self._kept) >= KEEP_MAX:
                self._kept.clear()
            self._kept[record.token_hash] = (record, self._monotonic())

    def forget(self, news: str) -> None:
        """News of an ended log-in ("token HASH" or "account ID"), from this process or another."""
        what, _, which = news.partition(" ")
        with self._lock:
            self._generation += 1
            if what == "token":
                self._kept.pop(which, None)
            elif what == "account" and which.isdigit():
                account = int(which)
                for token_hash, (record, _) in list(self._kept.items()):
                    if record.account_id == account:
                        del self._kept[token_hash]
            else:  # not ours to read: forget everything rather than guess
                self._kept.clear()

    def heard(self, news: str) -> None:
        """The notifier heard this news (any process's): forget, and wake `wait_heard`."""
        self.forget(news)
        with self._lock:
            if len(self._news) >= KEEP_MAX:
                self._news.clear()
            self._news[news] = self._news.get(news, 0) + 1
            self._heard.notify_all()

    def news_count(self, news: str) -> int:
        with self._lock:
            return self._news.get(news, 0)

    def wait_heard(self, news: str, before: int) -> None:
        """Wait (up to HEARD_WITHIN) until this news has been heard more than `before` times;
        at once when not hearing (nothing is kept anywhere that listens then)."""
        deadline = self._monotonic() + HEARD_WITHIN
        with self._lock:
            while self.hearing and self._news.get(news, 0) <= before:
                left = deadline - self._monotonic()
                if left <= 0:
                    return
                self._heard.wait(left)

    def hears(self, hearing: bool) -> None:
        """The notifier listens (True) or not (False): either way, start from nothing."""
        with self._lock:
            self._generation += 1
            self._kept.clear()
            self.hearing = hearing
            self._heard.notify_all()
