"""A real `backrub serve` in a subprocess, on a free port, with its own database, for web tests."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

START_TIMEOUT = 30.0
PAIRING_CODE = re.compile(r"^Pairing code: (\d{6})\b", re.MULTILINE)
PAIR_LINK = re.compile(r"http://\S+/pair\?code=\d{6}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    database: Path  # the SQLite file a server gets unless `env` names another database
    log: Path
    database_url: str = ""  # what the server was given as BACKRUB_DATABASE_URL

    def client(self, **options: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10.0, **options)  # type: ignore[arg-type]

    def output(self) -> str:
        return self.log.read_text()

    def pairing_code(self) -> str:
        """The code a `--lan` server printed, read as a person reads it off the terminal."""
        found = PAIRING_CODE.search(self.output())
        if found is None:
            raise AssertionError(f"no pairing code in the server's output:\n{self.output()}")
        return found.group(1)

    def pair_link(self) -> str:
        """The link a `--lan` server put in its QR code (and printed under it)."""
        found = PAIR_LINK.search(self.output())
        if found is None:
            raise AssertionError(f"no pairing link in the server's output:\n{self.output()}")
        return found.group(0)

    def paired_client(self, **options: object) -> httpx.Client:
        """A client that has typed the right code into /pair, so it holds the device cookie."""
        with self.client() as pairing:
            reply = pairing.post("/pair", data={"code": self.pairing_code()})
            if reply.status_code != 303:
                raise AssertionError(f"pairing failed: {reply.status_code} {reply.text[:300]}")
            return self.client(cookies=pairing.cookies, **options)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    folder: Path, *args: str, speed: float = 1.0, env: dict[str, str] | None = None
) -> Server:
    """Start `python -m backrub serve --port N ARGS` and wait until it answers."""
    port = free_port()
    database = folder / "backrub.db"
    log = folder / "server.log"
    environment = {
        **os.environ,
        "BACKRUB_DATABASE_URL": f"sqlite:///{database}",
        "BACKRUB_GUIDE_SPEED": str(speed),
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "backrub", "serve", "--port", str(port), *args],
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=environment,
            cwd=folder,
        )
    server = Server(
        f"http://127.0.0.1:{port}",
        process,
        database,
        log,
        database_url=environment["BACKRUB_DATABASE_URL"],
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"backrub serve exited {process.returncode}:\n{server.output()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(
        f"backrub serve did not answer within {START_TIMEOUT:g} s:\n{server.output()}"
    )


def start_session(client: httpx.Client, **body: object) -> dict[str, Any]:
    """Start a session over the API (10 minutes unless `body` says otherwise); its JSON."""
    reply = client.post("/api/sessions", json={"minutes": 10, **body})
    assert reply.status_code == 201, reply.text
    data: dict[str, Any] = reply.json()
    return data
