"""The load generator of bench/bench_web.py: households on raw asyncio connections, in a process
of its own, so the server under test, not the client, is what runs out of breath.

Each household signs up (hosted) or takes the local token, starts a session, and has two devices
follow its live stream (server-sent events). Then, phase by phase, the giver presses feedback at
Poisson times; every press is timed from the moment it is sent until both devices have been
shown a state with its stored event (the `seq` of the press's reply). The driver talks to this
process with one JSON line per phase on stdin and gets one JSON line back on stdout.

    python bench/web_load.py --url http://127.0.0.1:8765 --households 100 [--hosted]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import random
import resource
import secrets
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

FEEDBACK = ("more", "less", "felt", "cough", "ticklish")
SHOWN_WITHIN = 10.0  # seconds a press may take to reach both devices; later is an error
SETUP_AT_ONCE = 4  # sign-ups in flight at once: argon2 costs the server CPU and memory


class Connection:
    """One keep-alive HTTP/1.1 connection: requests one after another, no more than needed."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port, self.headers = host, port, headers
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _send(self, method: str, path: str, body: bytes | None) -> asyncio.StreamReader:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        return self.reader

    async def request(
        self, method: str, path: str, payload: object = None
    ) -> tuple[int, dict[str, list[str]], bytes]:
        body = None if payload is None else json.dumps(payload).encode()
        reused = self.writer is not None and not self.writer.is_closing()
        reader = await self._send(method, path, body)
        try:
            status, headers = await _head(reader)
        except (ConnectionError, EOFError):
            if not reused:
                raise
            # The server closed the idle keep-alive connection meanwhile: once more, anew.
            self.close()
            reader = await self._send(method, path, body)
            status, headers = await _head(reader)
        if "content-length" in headers:
            data = await reader.readexactly(int(headers["content-length"][0]))
        else:
            data = b"".join([chunk async for chunk in _chunks(reader)])
        if "close" in headers.get("connection", []):
            self.close()
        return status, headers, data

    async def events(self, path: str) -> asyncio.StreamReader:
        """Open a server-sent-events stream; its chunks are read with `_chunks`."""
        reader = await self._send("GET", path, None)
        status, _ = await _head(reader)
        if status != 200:
            raise RuntimeError(f"stream refused: {status}")
        return reader

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def _head(reader: asyncio.StreamReader) -> tuple[int, dict[str, list[str]]]:
    first = await reader.readline()
    if not first:
        raise EOFError("the server closed the connection")
    status = int(first.split()[1])
    headers: dict[str, list[str]] = {}
    while line := (await reader.readline()).strip():
        name, _, value = line.decode("latin-1").partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return status, headers


async def _chunks(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    while True:
        size = int((await reader.readline()).split(b";")[0], 16)
        if size == 0:
            await reader.readline()
            return
        yield await reader.readexactly(size)
        await reader.readline()


@dataclass
class Device:
    """A device following the stream: the stored-event count of every state it was shown,
    with when (ascending), to time presses afterwards without waiting on each."""

    seqs: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    broken: str = ""

    def shown(self, seq: int) -> float | None:
        """When this device first had a state with stored event `seq` (or later)."""
        index = bisect.bisect_left(self.seqs, seq)
        return self.times[index] if index < len(self.times) else None


@dataclass
class Household:
    giver: Connection
    session: str = ""
    devices: list[Device] = field(default_factory=lambda: [Device(), Device()])
    streams: list[Connection] = field(default_factory=list)
    following: list[asyncio.Task[None]] = field(default_factory=list)
    presses: list[tuple[float, int]] = field(default_factory=list)  # (sent, seq)
    errors: list[str] = field(default_factory=list)


async def follow(stream: Connection, path: str, device: Device) -> None:
    try:
        reader = await stream.events(path)
        buffer = b""
        async for chunk in _chunks(reader):
            buffer += chunk
            while b"\n\n" in buffer:
                message, buffer = buffer.split(b"\n\n", 1)
                for line in message.split(b"\n"):
                    if line.startswith(b"data: "):
                        seq = json.loads(line[6:])["seq"]
                        if not device.seqs or seq > device.seqs[-1]:
                            device.seqs.append(seq)
                            device.times.append(time.perf_counter())
        device.broken = "the stream ended"
    except (OSError, EOFError, RuntimeError, ValueError, asyncio.IncompleteReadError) as error:
        device.broken = f"the stream broke: {error!r}"


async def set_up(
    home: Household,
    url: str,
    hosted: bool,
    gate: asyncio.Semaphore,
    login: dict[str, str] | None,
) -> None:
    giver = home.giver
    async with gate:
        if login is not None:
            giver.headers["Cookie"] = login["cookie"]
            giver.headers["X-CSRF-Token"] = login["csrf"]
        elif hosted:
            email = f"bench-{secrets.token_hex(6)}@example.org"
            body = {"email": email, "password": secrets.token_urlsafe(16)}
            status, headers, data = await giver.request("POST", "/api/auth/signup", body)
            if status != 201:
                raise RuntimeError(f"sign-up refused: {status} {data[:80]!r}")
            cookies = "; ".join(c.split(";")[0] for c in headers.get("set-cookie", []))
            giver.headers["Cookie"] = cookies
        else:
            status, _, data = await giver.request("GET", "/api/token")
        if login is None:
            giver.headers["X-CSRF-Token"] = json.loads(data)["csrf_token"]
        status, _, data = await giver.request("POST", "/api/sessions", {"minutes": 60})
        if status != 201:
            raise RuntimeError(f"cannot start a session: {status} {data[:80]!r}")
    home.session = json.loads(data)["id"]
    parts = urlsplit(url)
    path = f"/api/sessions/{home.session}/stream"
    for device in home.devices:
        stream = Connection(parts.hostname or "", parts.port or 80, dict(giver.headers))
        home.streams.append(stream)
        home.following.append(asyncio.create_task(follow(stream, path, device)))
    while not all(device.seqs for device in home.devices):  # both show the session
        if any(device.broken for device in home.devices):
            raise RuntimeError(home.devices[0].broken or home.devices[1].broken)
        await asyncio.sleep(0.05)


async def press(home: Household, rate: float, until: float, chooser: random.Random) -> None:
    """Press at Poisson times (`rate` per second) until `until` (perf_counter)."""
    path = f"/api/sessions/{home.session}/events"
    while True:
        # Never past `until`: a household's last wait could run on for a minute (1,000
        # exponential waits of 10 s on average), and the phase's CPU with it.
        delay = chooser.expovariate(rate)
        if time.perf_counter() + delay >= until:
            await asyncio.sleep(max(0.0, until - time.perf_counter()))
            return
        await asyncio.sleep(delay)
        kind = chooser.choice(FEEDBACK)
        body: dict[str, object] = {"kind": kind}
        if kind == "felt":
            body["value"] = chooser.randint(3, 6)
        sent = time.perf_counter()
        try:
            status, _, data = await home.giver.request("POST", path, body)
        except (OSError, EOFError, ValueError, asyncio.IncompleteReadError) as error:
            home.errors.append(f"press failed: {error!r}")
            home.giver.close()
            continue
        if status != 200:
            home.errors.append(f"{status} {data[:80]!r}")
            continue
        home.presses.append((sent, json.loads(data)["seq"]))


async def phase(homes: list[Household], rate: float, seconds: float) -> dict[str, object]:
    """Every household presses for `seconds` at `rate` presses a second in all; then the
    latency of each press until both devices had it."""
    for home in homes:
        home.presses.clear()
        home.errors.clear()
    chooser = random.Random(secrets.randbits(32))
    used = resource.getrusage(resource.RUSAGE_SELF)
    begun = time.perf_counter()
    until = begun + seconds
    each = rate / len(homes)
    await asyncio.gather(*(press(home, each, until, chooser) for home in homes))
    await asyncio.sleep(min(SHOWN_WITHIN, 2.0))  # the last presses reach the devices
    latencies: list[float] = []
    errors: list[str] = []
    for home in homes:
        errors += home.errors
        errors += [device.broken for device in home.devices if device.broken]
        for sent, seq in home.presses:
            shown = [device.shown(seq) for device in home.devices]
            if None in shown or max(s for s in shown if s is not None) - sent > SHOWN_WITHIN:
                errors.append(f"event {seq} not on both devices within {SHOWN_WITHIN:g} s")
                continue
            latencies.append(max(s for s in shown if s is not None) - sent)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime
    return {"latencies": latencies, "errors": errors, "seconds": seconds, "cpu": cpu}


async def main_async(options: argparse.Namespace) -> None:
    parts = urlsplit(options.url)
    homes = [
        Household(
            Connection(
                parts.hostname or "",
                parts.port or 80,
                # Each household from an address of its own (the server trusts
                # X-Forwarded-For from 127.0.0.1, as behind a proxy): log-ins are limited
                # per client.
                {"X-Forwarded-For": _address()},
            )
        )
        for _ in range(options.households)
    ]
    gate = asyncio.Semaphore(SETUP_AT_ONCE if options.hosted else 16)
    begun = time.perf_counter()
    logins = json.loads(options.logins) if options.logins else [None] * len(homes)
    await asyncio.gather(
        *(
            set_up(home, options.url, options.hosted, gate, login)
            for home, login in zip(homes, logins, strict=True)
        )
    )
    _say({"ready": True, "setup": time.perf_counter() - begun})
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        order = json.loads(line)
        if order.get("quit"):
            break
        _say(await phase(homes, order["rate"], order["seconds"]))
    for home in homes:
        for stream in (home.giver, *home.streams):
            stream.close()


def _address() -> str:
    part = secrets.randbits(24)
    return f"10.{part >> 16}.{part >> 8 & 255}.{part & 255 or 1}"


def _say(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--households", type=int, required=True)
    parser.add_argument("--hosted", action="store_true")
    parser.add_argument("--logins", default="", help="JSON: each household's cookie and CSRF")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # three sockets a household
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
