"""Accounts for hosted mode: sign-up, log-ins and failed log-ins, and an account's export and
deletion with everything it owns.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from backrub.store.base import StoreBase, _storable
from backrub.store.errors import EmailTaken, StoreError
from backrub.store.failures import _is_duplicate
from backrub.store.login_cache import (
    HEARD_WITHIN,
    HEARERS,
    LOGIN_CHANNEL,
    account_news,
    token_news,
)
from backrub.store.records import AccountRecord, Credentials, LoginRecord
from backrub.store.tables import (
    CSRF_TOKEN_LENGTH,
    EMAIL_LENGTH,
    FAILURE_KEY_LENGTH,
    PASSWORD_HASH_LENGTH,
    TOKEN_HASH_LENGTH,
    AccountRow,
    EventRow,
    LoginFailureRow,
    LoginRow,
    ProfileRow,
    SessionRow,
    utc_now,
)

_TOKEN_HASH = re.compile(r"[0-9a-f]{64}")

log = logging.getLogger(__name__)

EXPORT_FORMAT = "backrub.account-export"

EXPORT_VERSION = 1

EMAIL_TAKEN = "an account with this e-mail address already exists"


class AccountMethods(StoreBase):
    """The store's accounts (part of `Store`)."""

    def create_account(self, email: str, password_hash: str) -> int:
        """A new account; raises EmailTaken (and changes nothing) when the e-mail has one.

        The e-mail is stored lower-cased; checking its form and the password is the caller's
        job (`backrub.web.passwords`), the store only keeps the hash it is given."""
        email = _email(email)
        _check_password_hash(password_hash)
        try:
            with self._writing() as db:
                if db.scalar(select(AccountRow.id).where(AccountRow.email == email)) is not None:
                    raise EmailTaken(EMAIL_TAKEN, where="email")
                row = AccountRow(email=email, password_hash=password_hash)
                db.add(row)
                db.flush()
                return row.id
        except StoreError as error:
            if _is_duplicate(error):  # another process signed up with it a moment ago
                raise EmailTaken(EMAIL_TAKEN, where="email") from None
            raise

    def account(self, account_id: int) -> AccountRecord:
        with self._reading() as db:
            return _account_record(self._account_row(db, account_id))

    def credentials(self, email: str) -> Credentials | None:
        """The account and password hash for a log-in with this e-mail; None if there is none."""
        try:
            email = _email(email)
        except StoreError:
            return None
        with self._reading() as db:
            row = db.scalar(select(AccountRow).where(AccountRow.email == email))
            if row is None:
                return None
            return Credentials(account_id=row.id, email=row.email, password_hash=row.password_hash)

    def set_password_hash(self, account_id: int, password_hash: str) -> None:
        """Replace the hash (after a successful log-in when the parameters have changed)."""
        _check_password_hash(password_hash)
        with self._writing() as db:
            self._account_row(db, account_id).password_hash = password_hash

    def create_login(
        self, account_id: int, token_hash: str, csrf_token: str, expires_at: datetime
    ) -> None:
        """Remember a logged-in browser by the sha256 (hex) of its cookie's token."""
        _check_token_hash(token_hash)
        if not csrf_token or len(csrf_token) > CSRF_TOKEN_LENGTH:
            raise StoreError(f"a CSRF token has 1 to {CSRF_TOKEN_LENGTH} characters")
        with self._writing() as db:
            self._account_row(db, account_id)
            db.add(
                LoginRow(
                    token_hash=token_hash,
                    account_id=account_id,
                    csrf_token=csrf_token,
                    expires_at=expires_at,
                )
            )

    def login(self, token_hash: str) -> LoginRecord | None:
        """The log-in with this token hash, expired or not (the caller decides); None if none."""
        if not _TOKEN_HASH.fullmatch(token_hash):
            return None
        with self._reading() as db:
            found = db.execute(
                select(LoginRow, AccountRow.email)
                .join(AccountRow, AccountRow.id == LoginRow.account_id)
                .where(LoginRow.token_hash == token_hash)
            ).first()
            if found is None:
                return None
            row, email = found
            return LoginRecord(
                token_hash=row.token_hash,
                account_id=row.account_id,
                email=email,
                csrf_token=row.csrf_token,
                created_at=row.created_at,
                expires_at=row.expires_at,
            )

    def cached_login(self, token_hash: str) -> LoginRecord | None:
        """`login`, from memory while every ending of a log-in is heard (login_cache.py)."""
        found = self.logins.get(token_hash)
        if found is not None:
            return found
        generation = self.logins.generation()
        record = self.login(token_hash)
        if record is not None:
            self.logins.keep(record, generation)
        return record

    def delete_login(self, token_hash: str) -> None:
        """Forget a log-in (log-out, or expired); nothing happens when there is none."""
        with self._ending(token_news(token_hash)) as db:
            db.execute(delete(LoginRow).where(LoginRow.token_hash == token_hash))

    @contextmanager
    def _ending(self, news: str) -> Iterator[Session]:
        """A transaction that ends log-ins: once committed, forgotten here at once, and (on
        PostgreSQL) by every listening server process before this returns (login_cache.py)."""
        self.logins.expect(news)
        try:
            with self._writing() as db:
                yield db
                if self._announce:
                    db.execute(select(func.pg_notify(LOGIN_CHANNEL, news)))
            self.logins.forget(news)
            if self._announce:
                silent = self.logins.wait_answers(news, self._login_hearers)
                if silent:
                    log.warning(
                        "%d server process(es) did not say they forgot an ended log-in within "
                        "%.0f s",
                        len(silent),
                        HEARD_WITHIN,
                    )
        finally:
            self.logins.unexpect(news)

    def _login_hearers(self) -> set[int]:
        """The connections, of every server process, that listen for ended log-ins."""
        with self._reading() as db:
            found = db.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = current_database() AND application_name = :name"
                ),
                {"name": HEARERS},
            )
            return set(found)

    def delete_expired_logins(self, now: datetime | None = None) -> int:
        """Forget every log-in that has expired; returns how many."""
        moment = now or utc_now()
        with self._writing() as db:
            gone = db.scalars(
                delete(LoginRow).where(LoginRow.expires_at <= moment).returning(LoginRow.token_hash)
            ).all()
            return len(gone)

    def record_login_failure(
        self, *keys: str, at: datetime | None = None, forget_before: datetime | None = None
    ) -> None:
        """Count a failed log-in under each key; rows older than `forget_before` are dropped."""
        moment = at or utc_now()
        for key in keys:
            _failure_key(key)
        with self._writing() as db:
            if forget_before is not None:
                db.execute(delete(LoginFailureRow).where(LoginFailureRow.at < forget_before))
            db.add_all(LoginFailureRow(key=key, at=moment) for key in keys)

    def login_failures(self, key: str, *, since: datetime) -> list[datetime]:
        """When the failures under this key happened since `since`, oldest first."""
        with self._reading() as db:
            return list(
                db.scalars(
                    select(LoginFailureRow.at)
                    .where(LoginFailureRow.key == _failure_key(key), LoginFailureRow.at >= since)
                    .order_by(LoginFailureRow.at)
                )
            )

    def clear_login_failures(self, key: str) -> None:
        with self._writing() as db:
            db.execute(delete(LoginFailureRow).where(LoginFailureRow.key == _failure_key(key)))

    def export_account(self, account_id: int) -> dict[str, Any]:
        """Everything the account owns, as JSON-able data: the account (without its password
        hash), its profiles, and its sessions with their plans, summaries and events."""
        with self._reading() as db:
            account = self._account_row(db, account_id)
            profiles = db.scalars(
                select(ProfileRow)
                .where(ProfileRow.account_id == account_id)
                .order_by(ProfileRow.id)
            ).all()
            sessions = db.scalars(
                select(SessionRow)
                .where(SessionRow.account_id == account_id)
                .order_by(SessionRow.created_at, SessionRow.id)
            ).all()
            events: dict[str, list[dict[str, Any]]] = {row.id: [] for row in sessions}
            rows = db.scalars(
                select(EventRow)
                .join(SessionRow, SessionRow.id == EventRow.session_id)
                .where(SessionRow.account_id == account_id)
                .order_by(EventRow.session_id, EventRow.seq)
            )
            for event in rows:
                events[event.session_id].append(
                    {
                        "seq": event.seq,
                        "at": event.at,
                        "kind": event.kind,
                        "region": event.region,
                        "value": event.value,
                        "recorded_at": event.recorded_at.isoformat(),
                    }
                )
            return {
                "format": EXPORT_FORMAT,
                "version": EXPORT_VERSION,
                "exported_at": utc_now().isoformat(),
                "account": {
                    "id": account.id,
                    "email": account.email,
                    "created_at": account.created_at.isoformat(),
                },
                "profiles": [
                    {
                        "id": row.id,
                        "name": row.name,
                        "created_at": row.created_at.isoformat(),
                        "data": row.data,
                    }
                    for row in profiles
                ],
                "sessions": [
                    {
                        "id": row.id,
                        "profile_id": row.profile_id,
                        "created_at": row.created_at.isoformat(),
                        "status": row.status,
                        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
                        "plan": row.plan,
                        "summary": row.summary,
                        "events": events[row.id],
                    }
                    for row in sessions
                ],
            }

    def delete_account(self, account_id: int) -> None:
        """Delete the account and everything it owns, in one transaction.

        The foreign keys cascade, but every table is also emptied of its rows explicitly, so a
        database whose foreign keys are not enforced (SQLite without the pragma) is left clean."""
        with self._ending(account_news(account_id)) as db:
            account = self._account_row(db, account_id)
            owned_sessions = select(SessionRow.id).where(SessionRow.account_id == account_id)
            db.execute(delete(EventRow).where(EventRow.session_id.in_(owned_sessions)))
            db.execute(delete(SessionRow).where(SessionRow.account_id == account_id))
            db.execute(delete(ProfileRow).where(ProfileRow.account_id == account_id))
            db.execute(delete(LoginRow).where(LoginRow.account_id == account_id))
            db.execute(
                delete(LoginFailureRow).where(LoginFailureRow.key == f"email:{account.email}")
            )
            db.execute(delete(AccountRow).where(AccountRow.id == account_id))


def _email(email: str) -> str:
    cleaned = email.strip().lower()
    if not cleaned or len(cleaned) > EMAIL_LENGTH:
        raise StoreError(f"an e-mail address has 1 to {EMAIL_LENGTH} characters", where="email")
    return _storable(cleaned, "email")


def _check_password_hash(password_hash: str) -> None:
    if not password_hash or len(password_hash) > PASSWORD_HASH_LENGTH:
        raise StoreError(f"a password hash is required (at most {PASSWORD_HASH_LENGTH} characters)")


def _check_token_hash(token_hash: str) -> None:
    if not _TOKEN_HASH.fullmatch(token_hash):
        raise StoreError(f"a token hash is {TOKEN_HASH_LENGTH} hexadecimal digits (sha256)")


def _failure_key(key: str) -> str:
    if not key or len(key) > FAILURE_KEY_LENGTH:
        raise StoreError(f"a failure key has 1 to {FAILURE_KEY_LENGTH} characters")
    # "email:name@example.org": a NUL came in the e-mail field of a log-in.
    return _storable(key, key.partition(":")[0] if ":" in key else "key")


def _account_record(row: AccountRow) -> AccountRecord:
    return AccountRecord(id=row.id, email=row.email, created_at=row.created_at)
