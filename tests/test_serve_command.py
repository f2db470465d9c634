"""`backrub serve` options: --port and --host are checked, --lan prints how to pair.

Servers that really run are in tests/web/test_pairing.py; these need none.
"""

from __future__ import annotations

import io
import re
import secrets
import socket
from pathlib import Path

import pytest
import segno
import uvicorn

from backrub.cli import serve_command
from backrub.cli.errors import run
from backrub.cli.main import app
from backrub.cli.serve_command import addresses, announce_lan, check_host, lan_address, url
from backrub.errors import BackrubError
from tests.conftest import RunBackrub


def test_help_explains_lan_and_pairing(run_backrub: RunBackrub) -> None:
    result = run_backrub("serve", "--help")
    assert result.returncode == 0
    assert "--lan" in result.stdout
    assert "pairing code" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "0"], "--port: 0 is not a port"),
        (["--port", "70000"], "--port: 70000 is not a port"),
        (["--host", "http://192.168.1.20"], "--host: 'http://192.168.1.20' is not an address"),
        (["--host", "my laptop", "--lan"], "--host: 'my laptop' is not an address"),
        (["--host", ""], "--host: '' is not an address"),
        (["--host", "0.0.0.0"], "add --lan"),
        (["--host", "192.168.1.20"], "add --lan"),
    ],
)
def test_bad_options_are_refused_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    def must_not_start(*args: object, **options: object) -> None:
        raise AssertionError("the server was started")

    monkeypatch.setattr(uvicorn, "run", must_not_start)
    assert run(app, ["serve", *args]) == 2
    printed = capsys.readouterr()
    assert message in printed.err
    assert "serving" not in printed.out


@pytest.mark.parametrize(
    ("given", "expected"),
    [("0.0.0.0", "0.0.0.0"), (" 192.168.1.20 ", "192.168.1.20"), ("::1", "::1")],
)
def test_addresses_and_names_are_accepted(given: str, expected: str) -> None:
    assert check_host(given) == expected
    assert check_host("localhost") == "localhost"
    assert check_host("laptop.local") == "laptop.local"


@pytest.mark.parametrize("bad", ["-x", "a/b", "host:8765", "a b", "é.example"])
def test_anything_else_is_not_a_host(bad: str) -> None:
    with pytest.raises(BackrubError, match="is not an address"):
        check_host(bad)


def test_the_lan_address_falls_back_to_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object) -> socket.socket:
        raise OSError("network is unreachable")

    monkeypatch.setattr(serve_command.socket, "socket", no_network)
    assert lan_address() == "127.0.0.1"
    assert addresses("0.0.0.0") == ["127.0.0.1"]


def test_every_url_is_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve_command, "lan_address", lambda: "192.168.1.20")
    assert addresses("0.0.0.0") == ["192.168.1.20", "127.0.0.1"]
    assert addresses("192.168.1.7") == ["192.168.1.7"]
    assert url("::1", 8765, "/pair") == "http://[::1]:8765/pair"


def test_the_lan_announcement(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(serve_command, "lan_address", lambda: "192.168.1.20")
    announce_lan("0.0.0.0", 8765, "042917")
    output = capsys.readouterr().out
    assert output.startswith("backrub is serving on http://192.168.1.20:8765/ on the local network")
    assert "Only devices with the pairing code can connect" in output
    assert "  Open http://192.168.1.20:8765/\n  Open http://127.0.0.1:8765/\n" in output
    assert re.search(r"^Pairing code: 042917\b", output, re.MULTILINE)
    link = "http://192.168.1.20:8765/pair?code=042917"
    qr = io.StringIO()
    segno.make(link).terminal(out=qr, compact=True)
    assert qr.getvalue() in output
    assert f"  {link}\n" in output
    assert output.rstrip().endswith("Ctrl-C stops the server.")


@pytest.mark.parametrize("hosted", [False, True])
def test_an_idle_connection_outlives_the_time_between_presses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, hosted: bool
) -> None:
    """A giver presses about every 10 s. Closed after Uvicorn's 5 idle seconds, nearly every
    press came on a new connection, which with several workers lands on any of them: one that
    did not hold the session loaded (replayed) it during the press, PostgreSQL's slowest presses.
    The phone's connection must stay open well past a press interval."""
    started: dict[str, object] = {}

    def capture(*args: object, **options: object) -> None:
        started.update(options)

    monkeypatch.setattr(uvicorn, "run", capture)
    args = ["serve"]
    if hosted:
        monkeypatch.setenv("BACKRUB_DATABASE_URL", f"sqlite:///{tmp_path}/hosted.db")
        monkeypatch.setenv("BACKRUB_SECRET_KEY", secrets.token_urlsafe(48))
        args += ["--hosted", "--workers", "1"]
    assert run(app, args) == 0
    assert isinstance(started.get("timeout_keep_alive"), int)
    assert started["timeout_keep_alive"] >= 60  # type: ignore[operator]
