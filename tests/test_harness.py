"""The suite's forked `backrub` processes (tests/server_fork.py) behave as plain ones.

Servers and commands are forked from a helper that imported their libraries once; what the
tests read from them must be what `python -m backrub ...` gives, or every test using them
would check something else than the real command.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import webserver
from tests.webserver import ForkedProcess, run_command, start_server

WORKER = "x-backrub-worker"


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--minutes", "20", "--json"],
        ["plan", "--minutes", "nan"],  # refused: one line on stderr, exit code 2
        ["history"],
        ["show", "ffffffff"],
    ],
)
def test_a_forked_command_prints_and_exits_as_a_plain_one(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        **os.environ,
        "COLUMNS": "160",
        "NO_COLOR": "1",
        "BACKRUB_DATABASE_URL": f"sqlite:///{tmp_path / 'backrub.db'}",
    }
    forked = run_command(args, env=env, cwd=tmp_path)
    monkeypatch.setattr(webserver, "FORKED", False)
    plain = run_command(args, env=env, cwd=tmp_path)
    assert forked.stdout or forked.stderr
    assert (forked.returncode, forked.stdout, forked.stderr) == (
        plain.returncode,
        plain.stdout,
        plain.stderr,
    )


def test_forked_servers_are_processes_of_their_own(tmp_path: Path) -> None:
    """Each makes its own per-process state (its worker id), and a signal ends only it."""
    servers = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        servers.append(start_server(tmp_path / name))
    try:
        assert all(isinstance(server.process, ForkedProcess) for server in servers)
        workers = set()
        for server in servers:
            with server.client() as client:
                workers.add(client.get("/").headers[WORKER])
        assert len(workers) == 2
        servers[0].process.kill()
        assert servers[0].process.wait(10) == -9
        with servers[1].client() as client:
            assert client.get("/").status_code == 200
    finally:
        for server in servers:
            server.stop()
