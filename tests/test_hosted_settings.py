"""Hosted mode's settings: read from the environment, and an unsafe secret stops the start."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from backrub.errors import BackrubError
from backrub.web.settings import hosted_settings
from tests.conftest import RunBackrub

GOOD_SECRET = secrets.token_urlsafe(48)


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "WORKERS", "SECURE_COOKIES"):
        monkeypatch.delenv(f"BACKRUB_{name}", raising=False)
    monkeypatch.setenv("BACKRUB_DATABASE_URL", "postgresql+psycopg://app@db.internal/backrub")
    monkeypatch.setenv("BACKRUB_SECRET_KEY", GOOD_SECRET)
    return monkeypatch


def test_every_setting_comes_from_the_environment(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("BACKRUB_ALLOWED_HOSTS", "Massage.Example.org, www.massage.example.org")
    environment.setenv("BACKRUB_WORKERS", "4")
    environment.setenv("BACKRUB_SECURE_COOKIES", "false")
    settings = hosted_settings()
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.secret_key.get_secret_value() == GOOD_SECRET
    assert settings.allowed_hosts == ("massage.example.org", "www.massage.example.org")
    assert settings.workers == 4
    assert settings.secure_cookies is False
    assert GOOD_SECRET not in repr(settings)  # the secret never shows in logs


def test_defaults_are_the_safe_ones(environment: pytest.MonkeyPatch) -> None:
    settings = hosted_settings()
    assert settings.secure_cookies is True
    assert settings.workers == 1
    assert settings.allowed_hosts == ("127.0.0.1", "localhost")


@pytest.mark.parametrize(
    ("secret", "words"),
    [
        (None, "is not set"),
        ("short-but-random-Q8x", "at least 32 characters"),
        ("change-me-change-me-change-me-change-me", "placeholder"),
        ("a" * 40, "placeholder"),
        ("your-secret-key-goes-here-1234567890abcdef", "placeholder"),
    ],
)
def test_an_unsafe_secret_is_refused_by_name(
    environment: pytest.MonkeyPatch, secret: str | None, words: str
) -> None:
    if secret is None:
        environment.delenv("BACKRUB_SECRET_KEY")
    else:
        environment.setenv("BACKRUB_SECRET_KEY", secret)
    with pytest.raises(BackrubError) as refused:
        hosted_settings()
    assert refused.value.where == "BACKRUB_SECRET_KEY"
    assert words in refused.value.message
    if secret:
        assert secret not in refused.value.one_line()


@pytest.mark.parametrize(
    ("name", "value"),
    [("BACKRUB_WORKERS", "0"), ("BACKRUB_WORKERS", "many"), ("BACKRUB_ALLOWED_HOSTS", " , ")],
)
def test_other_bad_values_name_their_variable(
    environment: pytest.MonkeyPatch, name: str, value: str
) -> None:
    environment.setenv(name, value)
    with pytest.raises(BackrubError) as refused:
        hosted_settings()
    assert refused.value.where == name


def test_the_database_url_is_required(environment: pytest.MonkeyPatch) -> None:
    environment.delenv("BACKRUB_DATABASE_URL")
    with pytest.raises(BackrubError) as refused:
        hosted_settings()
    assert refused.value.where == "BACKRUB_DATABASE_URL"


def test_serve_hosted_refuses_to_start_with_an_unsafe_secret(
    environment: pytest.MonkeyPatch, run_backrub: RunBackrub, tmp_path: Path
) -> None:
    environment.setenv("BACKRUB_DATABASE_URL", f"sqlite:///{tmp_path / 'hosted.db'}")
    environment.setenv("BACKRUB_SECRET_KEY", "secret")
    result = run_backrub("serve", "--hosted", "--port", "8799")
    assert result.returncode == 2
    assert "BACKRUB_SECRET_KEY" in result.stderr
    assert not (tmp_path / "hosted.db").exists()  # refused before anything was touched
