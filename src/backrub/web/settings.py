"""Hosted mode's settings: one typed object read from the environment, checked before serving.

A deployment sets them in its service manager or container (docs/deploy.md). The server refuses
to start with a missing or unsafe secret rather than run with one an attacker could guess.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from backrub.errors import BackrubError

MIN_SECRET = 32
MAX_WORKERS = 32
# Values copied from examples and tutorials: an attacker tries these first.
PLACEHOLDER_WORDS = ("change", "secret", "example", "default", "password", "your", "xxx", "todo")


class HostedSettings(BaseSettings):
    """`BACKRUB_DATABASE_URL`, `BACKRUB_SECRET_KEY`, `BACKRUB_ALLOWED_HOSTS`, ..."""

    model_config = SettingsConfigDict(env_prefix="BACKRUB_", extra="ignore", frozen=True)

    database_url: Annotated[str, Field(min_length=1)]
    secret_key: SecretStr
    # NoDecode: a plain comma-separated list in the environment, not JSON.
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ("127.0.0.1", "localhost")
    secure_cookies: bool = True
    workers: Annotated[int, Field(ge=1, le=MAX_WORKERS)] = 1

    @field_validator("secret_key")
    @classmethod
    def _unguessable(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if len(secret) < MIN_SECRET:
            raise ValueError(
                f"must be at least {MIN_SECRET} characters; make one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        lowered = secret.lower()
        if len(set(secret)) < 10 or any(word in lowered for word in PLACEHOLDER_WORDS):
            raise ValueError("looks like a placeholder or an example; use a random value")
        return value

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(host.strip().lower() for host in value.split(",") if host.strip())
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _some(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        if not hosts:
            raise ValueError("name at least one host name this server answers to")
        return hosts


def hosted_settings() -> HostedSettings:
    """The settings from the environment, or one clear error naming the variable at fault."""
    try:
        return HostedSettings()
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        name = "BACKRUB_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "missing":
            message = "is not set; hosted mode needs it"
        raise BackrubError(message, where=name) from None
