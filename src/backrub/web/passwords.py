"""E-mail addresses and passwords for hosted accounts: checked, hashed with argon2id, verified.

argon2id (argon2-cffi's `PasswordHasher`, RFC 9106's parameters) is slow and memory-hard on
purpose, so a stolen database is expensive to guess passwords from. A log-in for an e-mail that
has no account is checked against a dummy hash with the same parameters: it takes as long as a
wrong password, and says the same, so neither the reply nor its timing tells whether the
address is registered.

The test suite signs up and logs in thousands of times; with these parameters that was most of
its time. `BACKRUB_TESTS_ONLY_INSECURE_PASSWORD_HASHES=1` (tests/conftest.py sets it) makes the
hashes cheap instead: argon2-cffi's CHEAPEST profile, which protects nothing. Only that exact
variable does it, and `backrub serve --hosted` warns loudly on every start while it is set.
Hashes made with either parameters verify under both (argon2 writes them into the hash).
"""

from __future__ import annotations

import os
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from backrub.errors import BackrubError
from backrub.store.tables import EMAIL_LENGTH

EMAIL_MAX = EMAIL_LENGTH  # what the accounts table holds (RFC 5321's limit)
PASSWORD_MIN = 10
PASSWORD_MAX = 1024  # longer is no safer, and hashing it is work an attacker could ask for
# The passwords tried first, long enough to pass the length rule (lower-cased).
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "12345678910",
        "123456789a",
        "0123456789",
        "0987654321",
        "1q2w3e4r5t",
        "1qaz2wsx3edc",
        "qwertyuiop",
        "qwerty12345",
        "qwerty123456",
        "asdfghjkl1",
        "asdfghjkl;",
        "zxcvbnm123",
        "password12",
        "password123",
        "password1234",
        "passw0rd123",
        "iloveyou12",
        "iloveyou123",
        "letmein123",
        "welcome123",
        "changeme123",
        "administrator",
        "abcdefghij",
        "abcd123456",
        "abc1234567",
        "princess12",
        "sunshine12",
        "football123",
        "baseball123",
        "backrub123",
        "backrub1234",
        "massage123",
        "myspace123",
        "trustno1234",
        "11111111111",
        "aaaaaaaaaa1",
    }
)


class AccountError(BackrubError):
    """An e-mail address or password that cannot be used; `where` names the field."""


def check_email(text: str) -> str:
    """The address, trimmed and lower-cased; refuses what cannot be an e-mail address.

    Minimal on purpose: one @, something before it, a dot inside the domain, no spaces, at most
    254 characters. Whether mail arrives there is not checked."""
    email = text.strip().lower()
    if not email:
        raise AccountError("enter your e-mail address", where="email")
    if len(email) > EMAIL_MAX:
        raise AccountError(f"an e-mail address has at most {EMAIL_MAX} characters", where="email")
    local, at, domain = email.partition("@")
    well_formed = (
        at == "@"
        and local
        and "@" not in domain
        and "." in domain.strip(".")
        and not domain.startswith(".")
        and not domain.endswith(".")
        and ".." not in domain
        and not any(character.isspace() for character in email)
        # No control characters either (a NUL cannot even be stored on PostgreSQL).
        and email.isprintable()
    )
    if not well_formed:
        raise AccountError(
            "that is not an e-mail address; expected something like name@example.org",
            where="email",
        )
    return email


def check_password(password: str, email: str) -> None:
    """Refuse, with a message saying why, a password that is easy to guess."""
    if len(password) < PASSWORD_MIN:
        raise AccountError(
            f"the password is too short: use at least {PASSWORD_MIN} characters "
            "(a few unrelated words are easy to remember)",
            where="password",
        )
    if len(password) > PASSWORD_MAX:
        raise AccountError(
            f"the password is too long: use at most {PASSWORD_MAX} characters", where="password"
        )
    lowered = password.lower()
    if len(set(password)) == 1:
        raise AccountError(
            "the password is one character repeated: choose one that is hard to guess",
            where="password",
        )
    name = email.strip().lower()
    if lowered == name or lowered == name.partition("@")[0]:
        raise AccountError("the password must not be your e-mail address", where="password")
    if lowered in COMMON_PASSWORDS:
        raise AccountError(
            "that password is one of the most common ones: choose one that is hard to guess",
            where="password",
        )


INSECURE_HASHES_VARIABLE = "BACKRUB_TESTS_ONLY_INSECURE_PASSWORD_HASHES"
INSECURE_HASHES_WARNING = (
    f"WARNING: {INSECURE_HASHES_VARIABLE}=1: passwords are hashed with argon2's cheapest "
    "parameters, which protect nothing. This is for the test suite only: never serve real "
    "accounts like this (unset the variable)."
)


def insecure_hashes() -> bool:
    """Whether this process hashes passwords the test suite's cheap way (see above)."""
    return os.environ.get(INSECURE_HASHES_VARIABLE) == "1"


@cache
def _hasher() -> PasswordHasher:
    if insecure_hashes():
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    # argon2id, RFC 9106's low-memory recommendation (argon2-cffi's default)
    return PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


@cache
def _dummy_hash() -> str:
    return _hasher().hash("a password nobody has: only here to spend the same time")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; with no hash (unknown e-mail) it takes as long, False."""
    if len(password) > PASSWORD_MAX:
        password = password[:PASSWORD_MAX]  # never right: no stored password is this long
        password_hash = None
    try:
        _hasher().verify(password_hash or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's: store a new one."""
    return _hasher().check_needs_rehash(password_hash)
