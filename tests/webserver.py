"""A real `backrub serve` in a process of its own (forked from a helper that imported its
libraries: tests/server_fork.py), on a free port, with its own database, for web tests."""

from __future__ import annotations

import atexit
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

START_TIMEOUT = 60.0  # a cap: a server answers in a second or two on a quiet machine
# Servers are forked from a helper that has imported their libraries (tests/server_fork.py);
# BACKRUB_TEST_SERVERS_FORKED=0 starts each as a plain `python -m backrub serve` instead.
FORKED = os.environ.get("BACKRUB_TEST_SERVERS_FORKED", "1") != "0"
FORK_HELPER = Path(__file__).resolve().parent / "server_fork.py"
PORT_TRIES = 3
PAIRING_CODE = re.compile(r"^Pairing code: (\d{6})\b", re.MULTILINE)
PAIR_LINK = re.compile(r"http://\S+/pair\?code=\d{6}")


CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NOT_THE_BODY = frozenset({"content-type", "content-length", "transfer-encoding"})


class TokenClient(httpx.Client):
    """A client that sends the CSRF token with every change, as the pages do: read from
    `GET /api/token` when first needed, again for other cookies (a log-in, a pairing), and again
    once if the server refuses it (a restarted local server makes a new one). A request that
    names its own `X-CSRF-Token` is sent as it is; so is every request with `csrf=False`."""

    def __init__(self, *, csrf: bool = True, **options: Any) -> None:
        super().__init__(**options)
        self.csrf = csrf
        self._tokens: dict[str | None, str | None] = {}  # by the Cookie header sent

    def _token(self, request: httpx.Request, *, again: bool = False) -> str | None:
        key = request.headers.get("cookie")
        if key in self._tokens and not again:
            return self._tokens[key]
        headers = {k: v for k, v in request.headers.items() if k.lower() not in NOT_THE_BODY}
        asking = httpx.Request("GET", request.url.copy_with(path="/api/token", query=None))
        asking.headers.update(headers)
        reply = super().send(asking)
        # Not logged in or not paired: nothing to send until the cookies change.
        token: str | None = reply.json()["csrf_token"] if reply.status_code == 200 else None
        self._tokens[key] = token
        return token

    def send(self, request: httpx.Request, **options: Any) -> httpx.Response:
        if not self.csrf or request.method not in UNSAFE_METHODS or CSRF_HEADER in request.headers:
            return super().send(request, **options)
        token = self._token(request)
        if token is not None:
            request.headers[CSRF_HEADER] = token
        reply = super().send(request, **options)
        if token is None or reply.status_code != 403:
            return reply
        reply.read()
        if "CSRF token" not in reply.text:
            return reply
        fresh = self._token(request, again=True)
        if fresh is None or fresh == token:
            return reply
        reply.close()
        request.headers[CSRF_HEADER] = fresh
        return super().send(request, **options)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _listens(pid: int, port: int) -> bool:
    """Whether process `pid` itself listens on `port`. Not merely that something answers
    there: had another server (another pytest worker's) taken the port first, that one would
    answer while this one fails to bind. Read from Linux's /proc; elsewhere, a connection."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False
    sockets = set()
    for table in tables:
        for line in table.read_text().splitlines()[1:] if table.exists() else []:
            fields = line.split()  # sl local_address rem_address st ... inode
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                sockets.add(f"socket:[{fields[9]}]")
    if not sockets:
        return False
    try:  # the process or one of its own (uvicorn's workers listen on the socket it bound)
        return any(
            os.readlink(fd) in sockets
            for process in _family(pid)
            for fd in Path(f"/proc/{process}/fd").iterdir()
        )
    except OSError:  # gone, or a descriptor closed while looking
        return False


def _family(pid: int) -> list[int]:
    """The process and its descendants (Linux /proc)."""
    family = [pid]
    for process in family:
        for task in Path(f"/proc/{process}/task").glob("*/children"):
            family += [int(child) for child in task.read_text().split()]
    return family


class _Forker:
    """The helper process that forks this pytest process's servers (one, started at the first)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-u", str(FORK_HELPER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lock = threading.Lock()

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        with self.lock:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f"the server forker ended ({self.process.poll()}); see stderr")
        found: dict[str, Any] = json.loads(answer)
        return found

    def close(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()
        self.process.wait(timeout=10)


_forker: _Forker | None = None


def _the_forker() -> _Forker:
    global _forker
    if _forker is None or _forker.process.poll() is not None:
        _forker = _Forker()
        atexit.register(_forker.close)
    return _forker


class ForkedProcess:
    """A server forked by the helper: what the tests use of subprocess.Popen, alike."""

    def __init__(self, forker: _Forker, pid: int) -> None:
        self.forker = forker
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.forker.ask({"poll": self.pid})["code"]
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(["backrub", "serve"], timeout or 0.0)
            time.sleep(0.02)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:  # until reaped the pid is still this process's
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _forkable(env: dict[str, str]) -> bool:
    """Whether a forked child can be what `env` asks for. Not when it sets a variable the
    interpreter reads as it starts (PYTHONHASHSEED: a fork keeps the helper's string hashing)."""
    if not FORKED:
        return False
    names = {name for name in (*env, *os.environ) if name.startswith("PYTHON")}
    names.discard("PYTHONUNBUFFERED")  # the helper runs unbuffered (-u) anyway
    return all(env.get(name) == os.environ.get(name) for name in names)


def _spawn(
    argv: list[str], env: dict[str, str], cwd: Path, log: Path
) -> ForkedProcess | subprocess.Popen[str]:
    """`python -m backrub ARGV` in `cwd` with exactly `env`, its output in `log`."""
    if _forkable(env):
        return _fork(argv, env, cwd, log, log)
    with log.open("w") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "backrub", *argv],
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=cwd,
        )


def _fork(argv: list[str], env: dict[str, str], cwd: Path, out: Path, err: Path) -> ForkedProcess:
    forker = _the_forker()
    start = {"argv": argv, "env": env, "cwd": str(cwd), "out": str(out), "err": str(err)}
    return ForkedProcess(forker, forker.ask({"start": start})["pid"])


def run_command(
    args: list[str], *, env: dict[str, str], cwd: Path | None = None, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """`python -m backrub ARGS` run to its end, as `subprocess.run(..., capture_output=True,
    text=True)` gives it (stdin empty), forked like the servers when it can be (`_forkable`)."""
    command = [sys.executable, "-m", "backrub", *args]
    if not _forkable(env):
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    with tempfile.TemporaryDirectory(prefix="backrub-command-") as folder:
        out, err = Path(folder) / "stdout", Path(folder) / "stderr"
        out.write_text("")
        process = _fork(list(args), env, cwd or Path.cwd(), out, err)
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        return subprocess.CompletedProcess(command, code, out.read_text(), err.read_text())


@dataclass
class Server:
    url: str
    process: ForkedProcess | subprocess.Popen[str]
    database: Path  # the SQLite file a server gets unless `env` names another database
    log: Path
    database_url: str = ""  # what the server was given as BACKRUB_DATABASE_URL

    def client(self, **options: Any) -> httpx.Client:
        """A client of this server that sends its CSRF token with every change (`csrf=False`:
        only what the test sends)."""
        return TokenClient(base_url=self.url, timeout=10.0, **options)

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

    def paired_client(self, **options: Any) -> httpx.Client:
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
    """Start `python -m backrub serve --port N ARGS` and wait until it answers.

    The free port is found by binding it and letting it go, so another process (another pytest
    worker, another server starting) may take it before the server binds it: then again, on
    another port."""
    for _ in range(PORT_TRIES - 1):
        try:
            return _start_server(folder, args, speed, env)
        except PortTakenError:
            continue
    return _start_server(folder, args, speed, env)


def module_server(
    name: str, *args: str, speed: float = 1.0, env: dict[str, str] | None = None
) -> Callable[..., Iterator[Server]]:
    """A module-scoped fixture: one `backrub serve ARGS` for the module's tests, on SQLite in a
    temporary folder named after `name`, its session clock `speed` times fast (`env` adds to its
    environment). The fixture takes the name it is assigned to: `server = module_server("voice")`.
    """

    @pytest.fixture(scope="module")
    def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
        started = start_server(tmp_path_factory.mktemp(name), *args, speed=speed, env=env)
        try:
            yield started
        finally:
            started.stop()

    return running


class PortTakenError(RuntimeError):
    """The server could not bind its port: something else took it first."""


def _start_server(
    folder: Path, args: tuple[str, ...], speed: float, env: dict[str, str] | None
) -> Server:
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
    log.write_text("")
    process = _spawn(["serve", "--port", str(port), *args], environment, folder, log)
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
            output = server.output()
            if "address already in use" in output.lower():
                raise PortTakenError(f"port {port} was taken:\n{output}")
            raise RuntimeError(f"backrub serve exited {process.returncode}:\n{output}")
        if _listens(process.pid, port):
            return server
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


def step_change_bytes(server: Server, session_id: str) -> dict[str, int]:
    """What a page following the session receives when the step moves on: the new state on the
    stream (sent plain, see above) and the step's part of the map (fetched, gzipped). The next
    step's picture is fetched a step ahead (the state names it) and kept a year, so it is not
    downloaded at the change."""
    events: list[tuple[int, dict[str, Any]]] = []
    first, changed = threading.Event(), threading.Event()

    def follow() -> None:
        with (
            server.client(headers={"Accept-Encoding": "gzip"}) as device,
            device.stream("GET", f"/api/sessions/{session_id}/stream") as reply,
        ):
            for line in reply.iter_lines():
                if line.startswith("data: "):
                    state = json.loads(line[6:])
                    # On the wire: "event: state\n" + this line + "\n\n".
                    events.append((len(f"event: state\n{line}\n\n".encode()), state))
                    first.set()
                    if len(events) > 1 and state["step"]["id"] != events[0][1]["step"]["id"]:
                        changed.set()
                        return

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    assert first.wait(10), "the stream sent nothing"
    with server.client() as giver:
        giver.post(f"/api/sessions/{session_id}/events", json={"kind": "skip"})
    assert changed.wait(10), "the step never changed on the stream"
    with server.client(headers={"Accept-Encoding": "gzip"}) as device:
        part = device.get(f"/api/sessions/{session_id}/step-map.svg")
    assert part.status_code == 200
    return {"state on the stream": events[-1][0], "step's map part": part.num_bytes_downloaded}
