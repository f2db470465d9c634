"""Load on the web app: many guided sessions at once, each followed by two devices.

For every session a giver's phone and a receiver's tablet follow the live stream (server-sent
events) while the giver sends feedback. The figure that matters is the latency of a feedback
event until EVERY device following the session has the new state; also the event throughput.

    python bench/bench_web.py                               # SQLite, one process (local mode)
    python bench/bench_web.py --postgres URL --workers 4    # and PostgreSQL, hosted, 4 workers

Run by `make bench` (PostgreSQL too when BACKRUB_TEST_POSTGRES_URL is set). Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import fresh_postgres_database
from tests.webserver import start_server

FEEDBACK = ("more", "less", "felt", "cough", "ticklish")
WAIT_SECONDS = 20.0


@dataclass
class Follower:
    """One device following a session: the newest stored-event count it has been shown."""

    seen: int = -1
    changed: asyncio.Event = field(default_factory=asyncio.Event)


async def follow(client: httpx.AsyncClient, session: str, device: Follower) -> None:
    async with client.stream("GET", f"/api/sessions/{session}/stream") as reply:
        async for line in reply.aiter_lines():
            if line.startswith("data: "):
                device.seen = max(device.seen, json.loads(line[6:])["seq"])
                device.changed.set()


async def until_seen(devices: list[Follower], seq: int) -> None:
    """Until every device has been shown stored event `seq` (0: the session at all)."""
    for device in devices:
        while device.seen < seq:
            device.changed.clear()
            await device.changed.wait()


async def household(
    url: str,
    hosted: bool,
    events: int,
    timings: list[tuple[float, float]],
    errors: list[str],
    ready: asyncio.Barrier,
) -> None:
    # Each household from an address of its own (the server trusts X-Forwarded-For from
    # 127.0.0.1, as behind a proxy), as households are: sign-ups are limited per client.
    own = {"X-Forwarded-For": random_address()}
    async with httpx.AsyncClient(base_url=url, timeout=WAIT_SECONDS, headers=own) as giver:
        headers = await log_in(giver) if hosted else await local_token(giver)
        started = await giver.post("/api/sessions", json={"minutes": 30}, headers=headers)
        if started.status_code != 201:
            raise RuntimeError(f"cannot start a session: {started.status_code} {started.text}")
        session = started.json()["id"]
        devices = [Follower(), Follower()]
        async with httpx.AsyncClient(base_url=url, timeout=None, cookies=giver.cookies) as tablet:
            streams = [
                asyncio.create_task(follow(giver, session, devices[0])),
                asyncio.create_task(follow(tablet, session, devices[1])),
            ]
            # Both devices show the session before anyone gives feedback, as in real use.
            await asyncio.wait_for(until_seen(devices, 0), WAIT_SECONDS)
            # Sign-ups (argon2 on purpose costs CPU) and starts are not what is measured: every
            # household is set up before the first feedback.
            await ready.wait()
            chooser = secrets.SystemRandom()
            await asyncio.sleep(chooser.uniform(0, 0.6))  # households do not start in step
            for number in range(events):
                kind = FEEDBACK[number % len(FEEDBACK)]
                body: dict[str, object] = {"kind": kind}
                if kind == "felt":
                    body["value"] = chooser.randint(3, 6)
                begun = time.perf_counter()
                reply = await giver.post(
                    f"/api/sessions/{session}/events", json=body, headers=headers
                )
                if reply.status_code != 200:
                    errors.append(f"{reply.status_code} {reply.text[:80]}")
                    continue
                await asyncio.wait_for(until_seen(devices, reply.json()["seq"]), WAIT_SECONDS)
                timings.append((begun, time.perf_counter()))
                await asyncio.sleep(chooser.uniform(0.2, 0.6))  # a person, not a script
            for stream in streams:
                stream.cancel()
            await asyncio.gather(*streams, return_exceptions=True)


def random_address() -> str:
    part = secrets.randbits(24)
    return f"10.{part >> 16}.{part >> 8 & 255}.{part & 255 or 1}"


async def local_token(client: httpx.AsyncClient) -> dict[str, str]:
    """The local server's CSRF token, as a script gets it; the headers every change needs."""
    reply = await client.get("/api/token")
    reply.raise_for_status()
    return {"X-CSRF-Token": reply.json()["csrf_token"]}


async def log_in(client: httpx.AsyncClient) -> dict[str, str]:
    """A new account for this household; returns the headers its requests need (CSRF)."""
    email = f"bench-{secrets.token_hex(6)}@example.org"
    password = secrets.token_urlsafe(16)
    reply = await client.post("/api/auth/signup", json={"email": email, "password": password})
    reply.raise_for_status()
    token = reply.json().get("csrf_token", "")
    return {"X-CSRF-Token": token}


async def drive(url: str, *, hosted: bool, sessions: int, events: int) -> None:
    timings: list[tuple[float, float]] = []  # (sent, seen by every device) per event
    errors: list[str] = []
    ready = asyncio.Barrier(sessions)
    await asyncio.gather(
        *(household(url, hosted, events, timings, errors, ready) for _ in range(sessions))
    )
    if not timings:
        print(f"  no event went through; errors: {errors[:3]}")
        return
    took = max(end for _, end in timings) - min(sent for sent, _ in timings)
    ordered = sorted(end - sent for sent, end in timings)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    print(f"  {sessions} sessions x 2 devices, {len(ordered)} feedback events in {took:.1f} s")
    print(f"  throughput: {len(ordered) / took:.1f} events/s (people pause 0.2-0.6 s)")
    print(
        f"  latency until every device has the new state: "
        f"p50 {statistics.median(ordered) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"
    )
    if errors:
        print(f"  refused: {len(errors)} (first: {errors[0]})")


def login_timing(url: str, tries: int = 8) -> None:
    """A failed log-in takes as long for an address without an account as for one with: both
    check a password with argon2 (the unknown one against a dummy hash)."""
    with httpx.Client(base_url=url, timeout=WAIT_SECONDS) as client:
        took: dict[str, list[float]] = {"known": [], "unknown": []}
        for _ in range(tries):
            # A new account each time: an address that failed often is slowed down on purpose.
            email = f"bench-{secrets.token_hex(6)}@example.org"
            body = {"email": email, "password": secrets.token_urlsafe(16)}
            own = {"X-Forwarded-For": random_address()}
            client.post("/api/auth/signup", json=body, headers=own).raise_for_status()
            for kind in took:
                address = email if kind == "known" else f"no-{secrets.token_hex(6)}@example.org"
                wrong = {"email": address, "password": "not the password"}
                begun = time.perf_counter()
                reply = client.post(
                    "/api/auth/login", json=wrong, headers={"X-Forwarded-For": random_address()}
                )
                took[kind].append(time.perf_counter() - begun)
                if reply.status_code != 401:
                    print(f"  log-in timing: unexpected {reply.status_code} {reply.text[:80]}")
                    return
    known, unknown = (statistics.median(took[kind]) * 1000 for kind in ("known", "unknown"))
    print(
        f"  failed log-in, median of {tries}: known e-mail {known:.0f} ms, "
        f"unknown e-mail {unknown:.0f} ms (ratio {unknown / known:.2f})"
    )


def run(label: str, args: list[str], env: dict[str, str], options: argparse.Namespace) -> None:
    """One server, then each load in turn against it (a fresh set of households each time)."""
    print(label)
    with tempfile.TemporaryDirectory() as folder:
        server = start_server(Path(folder), *args, env=env)
        try:
            if "--hosted" in args:
                login_timing(server.url)
            for sessions in options.sessions:
                asyncio.run(
                    drive(
                        server.url,
                        hosted="--hosted" in args,
                        sessions=sessions,
                        events=options.events,
                    )
                )
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sessions", type=int, nargs="+", default=[20, 50], help="households at once, per run"
    )
    parser.add_argument("--events", type=int, default=12, help="feedback events per household")
    parser.add_argument("--workers", type=int, default=2, help="Uvicorn workers on PostgreSQL")
    parser.add_argument("--postgres", default=os.environ.get("BACKRUB_TEST_POSTGRES_URL", ""))
    options = parser.parse_args()
    print(f"{os.cpu_count()} cores; this client, the server and the database share them.")
    run("SQLite, one process (local mode):", [], {}, options)
    if options.postgres:
        with fresh_postgres_database(options.postgres) as url:  # dropped afterwards
            env = {
                "BACKRUB_DATABASE_URL": url,
                "BACKRUB_SECRET_KEY": secrets.token_urlsafe(48),
                "BACKRUB_SECURE_COOKIES": "false",  # plain http on loopback
            }
            workers = ["--hosted", "--workers", str(options.workers)]
            run(f"PostgreSQL, hosted, {options.workers} workers:", workers, env, options)
    else:
        print("PostgreSQL: skipped (set BACKRUB_TEST_POSTGRES_URL or pass --postgres URL)")


if __name__ == "__main__":
    main()
