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
- A process that ends a log-in does not reply before every process listening then has forgotten
  it: each notifier, having forgotten, answers on `HEARD_CHANNEL`, and the ending waits for the
  answers of every connection named `HEARERS` (PostgreSQL's pg_stat_activity) that is still
  there, up to `HEARD_WITHIN` seconds. (Waiting only for its own notifier left a window of a few
  milliseconds in which another process still served the ended log-in from memory.)
- A row deleted behind the store's back (an operator's SQL) is read again after `KEEP_SECONDS`.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Collection

from backrub.store.records import LoginRecord

# The PostgreSQL channel on which an ended log-in is announced: "token HASH" or "account ID".
LOGIN_CHANNEL = "backrub_login"
# Where each notifier says it has forgotten an ending: the news itself, sent by the notifier's
# own connection (so the notification's pid names the process that heard it).
HEARD_CHANNEL = "backrub_login_heard"
HEARERS = "backrub-hears-logins"  # application_name of every notifier's connection
KEEP_SECONDS = 60.0  # a kept log-in is read again after this long, whatever was heard
KEEP_MAX = 100_000  # log-ins kept at most; past that, all are forgotten and read again
ASK_AGAIN = 0.25  # seconds between looks at which hearers are still there, while waiting
HEARD_WITHIN = 2.0  # seconds an ending waits, at most, for every process to have forgotten it


def token_news(token_hash: str) -> str:
    """News of one ending; the last word only tells this ending's answers from another's."""
    return f"token {token_hash} {secrets.token_hex(6)}"


def account_news(account_id: int) -> str:
    return f"account {account_id} {secrets.token_hex(6)}"


class LoginCache:
    """Log-ins by token hash, kept only while `hearing` (see the module's docstring)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._heard = threading.Condition(self._lock)
        self._kept: dict[str, tuple[LoginRecord, float]] = {}
        self._generation = 0  # goes up at every forgetting: older reads are not kept
        self._answers: dict[str, set[int]] = {}  # this process's endings: who forgot them
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
        what, _, rest = news.partition(" ")
        which = rest.partition(" ")[0]
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

    def expect(self, news: str) -> None:
        """This process is about to announce `news`: gather the answers from now on."""
        with self._lock:
            self._answers[news] = set()

    def answered(self, news: str, hearer: int) -> None:
        """The notifier of connection `hearer` has forgotten `news` (ours, or not: ignored)."""
        with self._lock:
            answers = self._answers.get(news)
            if answers is not None:
                answers.add(hearer)
                self._heard.notify_all()

    def wait_answers(self, news: str, hearers: Callable[[], Collection[int]]) -> set[int]:
        """Wait until every hearer has forgotten `news` (see the module's docstring); returns
        the hearers still silent after HEARD_WITHIN (none when all answered). `hearers` is asked
        again when an answer is slow: one that went away has forgotten everything anyway.
        Nothing is awaited when this process does not hear: its notifier passes the answers on."""
        deadline = self._monotonic() + HEARD_WITHIN
        waiting = set(hearers()) if self.hearing else set()
        while True:
            with self._lock:
                while self.hearing and not waiting <= self._answers.get(news, set()):
                    left = deadline - self._monotonic()
                    if left <= 0 or not self._heard.wait(min(left, ASK_AGAIN)):
                        break
                if not self.hearing:
                    return set()
                waiting -= self._answers.get(news, set())
            if not waiting or self._monotonic() >= deadline:
                return waiting
            waiting &= set(hearers())

    def unexpect(self, news: str) -> None:
        """The ending is over (answered, or failed): stop gathering its answers."""
        with self._lock:
            self._answers.pop(news, None)

    def hears(self, hearing: bool) -> None:
        """The notifier listens (True) or not (False): either way, start from nothing."""
        with self._lock:
            self._generation += 1
            self._kept.clear()
            self.hearing = hearing
            self._heard.notify_all()
