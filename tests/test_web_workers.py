"""Several server processes on one PostgreSQL database: every device sees every change.

A giver's phone and a receiver's tablet behind a load balancer may talk to different
processes. Feedback sent to one process must reach the live streams held by every other one
(PostgreSQL LISTEN/NOTIFY), in order, and the sessions and log-ins must be shared.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import fresh_postgres_database
from tests.hosted_helpers import HOSTED_ENV, sign_up
from tests.webserver import Server, start_server

FEEDBACK = ("more", "less", "cough", "ticklish", "more", "less")
SPEED = 20.0  # the servers' session clock runs this much faster than the wall clock
WAIT = 20.0  # seconds a device may take to see a change before the test gives up


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    with fresh_postgres_database(postgres_server) as url:
        yield url


def _hosted(folder: Path, url: str, *args: str) -> Server:
    folder.mkdir(exist_ok=True)
    return start_server(
        folder, "--hosted", *args, speed=SPEED, env={**HOSTED_ENV, "BACKRUB_DATABASE_URL": url}
    )


WORKER = "x-backrub-worker"  # the header naming the process that answered
MORE_STREAMS = 16  # streams a test may open to have one on every worker


@dataclass
class Run:
    """What a run of feedback showed: each event's seq, the process that stored it, and for
    each device the seq of every state its stream delivered, and the process streaming it."""

    stored: list[int] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)
    seen: list[list[int]] = field(default_factory=list)
    streams: list[str] = field(default_factory=list)


async def _follow(
    url: str, cookies: httpx.Cookies, session: str, seen: list[int], streams: list[str]
) -> None:
    """One device: every state's `seq`, in the order the stream delivered them."""
    async with (
        httpx.AsyncClient(base_url=url, cookies=cookies, timeout=None) as device,
        device.stream("GET", f"/api/sessions/{session}/stream") as reply,
    ):
        assert reply.status_code == 200
        streams.append(reply.headers[WORKER])
        async for line in reply.aiter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[6:])["seq"])


async def _feedback_everywhere(
    senders: list[httpx.Client],
    followers: list[tuple[str, httpx.Cookies]],
    session: str,
    *,
    workers: int = 1,
) -> Run:
    """Send FEEDBACK round-robin through `senders`; after each one, wait until every follower
    has been shown it. More followers (like the last) are added until the streams run on
    `workers` different processes."""
    run = Run()
    tasks: list[asyncio.Task[None]] = []

    async def add(url: str, cookies: httpx.Cookies) -> None:
        run.seen.append([])
        tasks.append(asyncio.create_task(_follow(url, cookies, session, run.seen[-1], run.streams)))
        while not run.seen[-1]:  # the device has its first state: it is following
            await asyncio.sleep(0.05)

    try:
        for url, cookies in followers:
            await add(url, cookies)
        while len(set(run.streams)) < workers and len(tasks) < MORE_STREAMS:
            await add(*followers[-1])
        for number, kind in enumerate(FEEDBACK):
            sender = senders[number % len(senders)]
            reply = await asyncio.to_thread(
                sender.post, f"/api/sessions/{session}/events", json={"kind": kind}
            )
            assert reply.status_code == 200, reply.text
            run.stored.append(reply.json()["seq"])
            run.senders.append(reply.headers[WORKER])
            try:
                async with asyncio.timeout(WAIT):
                    while not all(device[-1] >= run.stored[-1] for device in run.seen):
                        await asyncio.sleep(0.02)
            except TimeoutError:
                raise AssertionError(
                    f"after event {run.stored[-1]} the devices saw only {run.seen}"
                    f" within {WAIT:g} s"
                ) from None
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return run


def _assert_every_device_saw_every_event(run: Run) -> None:
    # Each event has its own place in the one log (save points may come between them).
    assert run.stored == sorted(set(run.stored)), run.stored
    for device in run.seen:
        assert device == sorted(device), f"a device went back in time: {device}"
        assert device[-1] == run.stored[-1]


def test_feedback_sent_to_one_process_reaches_devices_on_another(
    postgres_url: str, tmp_path: Path
) -> None:
    first = _hosted(tmp_path / "first", postgres_url)
    second = _hosted(tmp_path / "second", postgres_url)
    try:
        giver = sign_up(first)
        # The log-in made on the first process is good on the second: it lives in the database.
        tablet = second.client(cookies=giver.cookies, headers=dict(giver.headers))
        started = giver.post("/api/sessions", json={"minutes": 10})
        assert started.status_code == 201, started.text
        session = started.json()["id"]

        followers = [(first.url, giver.cookies), (second.url, giver.cookies)]
        run = asyncio.run(_feedback_everywhere([giver, tablet], followers, session))

        _assert_every_device_saw_every_event(run)
        states = [giver.get(f"/api/sessions/{session}"), tablet.get(f"/api/sessions/{session}")]
        assert [state.json()["seq"] for state in states] == [run.stored[-1], run.stored[-1]]
        assert states[0].json()["step"] == states[1].json()["step"]
        giver.close()
        tablet.close()
    finally:
        first.stop()
        second.stop()


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def _a_client_on_each_worker(
    server: Server, giver: httpx.Client, session: str
) -> list[httpx.Client]:
    """Two clients (each keeps its connection) answered by two different workers."""
    found: dict[str, httpx.Client] = {}
    for _ in range(MORE_STREAMS):
        client = server.client(cookies=giver.cookies, headers=dict(giver.headers))
        worker = client.get(f"/api/sessions/{session}").headers[WORKER]
        if worker in found:
            client.close()
        else:
            found[worker] = client
        if len(found) == 2:
            return list(found.values())
    raise AssertionError(f"{MORE_STREAMS} connections all went to the worker {list(found)}")


def test_several_workers_share_sessions_and_every_stream_sees_every_event(
    postgres_url: str, tmp_path: Path
) -> None:
    server = _hosted(tmp_path, postgres_url, "--workers", "2")
    try:
        giver = sign_up(server)
        started = giver.post("/api/sessions", json={"minutes": 10})
        assert started.status_code == 201, started.text
        session = started.json()["id"]
        # Uvicorn's supervisor runs the workers as child processes (plus a resource tracker).
        assert len(_children(server.process.pid)) >= 2
        # The kernel gives each new connection to either worker: one sender on each, and
        # streams on both, every one of which must show every event.
        senders = _a_client_on_each_worker(server, giver, session)
        followers = [(server.url, giver.cookies)] * 2
        run = asyncio.run(_feedback_everywhere(senders, followers, session, workers=2))

        _assert_every_device_saw_every_event(run)
        workers = set(run.senders)
        assert len(workers) == 2, f"every event went through one worker: {run.senders}"
        assert set(run.streams) == workers, f"streams on {run.streams}, senders on {workers}"
        for sender in senders:
            sender.close()
        giver.close()
    finally:
        server.stop()


def _poll(client: httpx.Client, session: str, seconds: float) -> None:
    """Look at the session now and then for `seconds`, as a device's live stream does."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        assert client.get(f"/api/sessions/{session}").status_code == 200
        time.sleep(0.1)


def test_a_pause_is_not_massage_time_when_another_process_resumes_the_session(
    postgres_url: str, tmp_path: Path
) -> None:
    first = _hosted(tmp_path / "first", postgres_url)
    second = _hosted(tmp_path / "second", postgres_url)
    try:
        giver = sign_up(first)
        tablet = second.client(cookies=giver.cookies, headers=dict(giver.headers))
        session = giver.post("/api/sessions", json={"minutes": 10}).json()["id"]
        events = f"/api/sessions/{session}/events"
        _poll(giver, session, 0.5)
        paused = giver.post(events, json={"kind": "pause"}).json()
        # The giver's device follows the paused session on the first process; two seconds
        # (forty session seconds) into the pause the tablet loads it on the second.
        _poll(giver, session, 2.0)
        assert tablet.get(f"/api/sessions/{session}").json()["status"] == "paused"
        _poll(giver, session, 1.0)

        sent = time.monotonic()
        resumed = tablet.post(events, json={"kind": "resume"})
        assert resumed.status_code == 200, resumed.text
        on_first = giver.get(f"/api/sessions/{session}").json()
        on_second = tablet.get(f"/api/sessions/{session}").json()
        # Hands were on the back only since the resume: at most this many session seconds.
        since_resume = SPEED * (time.monotonic() - sent) + 1.0
        for state in (resumed.json(), on_first, on_second):
            assert state["worked"] - paused["worked"] <= since_resume, (paused, state)
        assert abs(on_first["clock"] - on_second["clock"]) <= since_resume
        giver.close()
        tablet.close()
    finally:
        first.stop()
        second.stop()
