"""Several server processes on one PostgreSQL database: every device sees every change.

A giver's phone and a receiver's tablet behind a load balancer may talk to different
processes. Feedback sent to one process must reach the live streams held by every other one
(PostgreSQL LISTEN/NOTIFY), in order, and the sessions and log-ins must be shared.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import fresh_postgres_database
from tests.hosted_helpers import HOSTED_ENV, sign_up
from tests.webserver import Server, start_server

FEEDBACK = ("more", "less", "cough", "ticklish", "more", "less")
WAIT = 20.0  # seconds a device may take to see a change before the test gives up


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    with fresh_postgres_database(postgres_server) as url:
        yield url


def _hosted(folder: Path, url: str, *args: str) -> Server:
    folder.mkdir(exist_ok=True)
    return start_server(
        folder, "--hosted", *args, speed=20.0, env={**HOSTED_ENV, "BACKRUB_DATABASE_URL": url}
    )


async def _follow(url: str, cookies: httpx.Cookies, session: str, seen: list[int]) -> None:
    """One device: every state's `seq`, in the order the stream delivered them."""
    async with (
        httpx.AsyncClient(base_url=url, cookies=cookies, timeout=None) as device,
        device.stream("GET", f"/api/sessions/{session}/stream") as reply,
    ):
        assert reply.status_code == 200
        async for line in reply.aiter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[6:])["seq"])


async def _feedback_everywhere(
    senders: list[httpx.Client], followers: list[tuple[str, httpx.Cookies]], session: str
) -> tuple[list[int], list[list[int]]]:
    """Send FEEDBACK round-robin through `senders`; after each one, wait until every follower
    has been shown it. Returns the seq each event got and what each follower saw."""
    seen: list[list[int]] = [[] for _ in followers]
    streams = [
        asyncio.create_task(_follow(url, cookies, session, into))
        for (url, cookies), into in zip(followers, seen, strict=True)
    ]
    stored: list[int] = []
    try:
        while not all(seen):  # every device has its first state: it is following
            await asyncio.sleep(0.05)
        for number, kind in enumerate(FEEDBACK):
            sender = senders[number % len(senders)]
            reply = await asyncio.to_thread(
                sender.post, f"/api/sessions/{session}/events", json={"kind": kind}
            )
            assert reply.status_code == 200, reply.text
            stored.append(reply.json()["seq"])
            try:
                async with asyncio.timeout(WAIT):
                    while not all(device and device[-1] >= stored[-1] for device in seen):
                        await asyncio.sleep(0.02)
            except TimeoutError:
                raise AssertionError(
                    f"after event {stored[-1]} the devices saw only {seen} within {WAIT:g} s"
                ) from None
    finally:
        for stream in streams:
            stream.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
    return stored, seen


def _assert_every_device_saw_every_event(stored: list[int], seen: list[list[int]]) -> None:
    # Each event has its own place in the one log (save points may come between them).
    assert stored == sorted(set(stored)), stored
    for device in seen:
        assert device == sorted(device), f"a device went back in time: {device}"
        assert device[-1] == stored[-1]


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
        stored, seen = asyncio.run(_feedback_everywhere([giver, tablet], followers, session))

        _assert_every_device_saw_every_event(stored, seen)
        states = [giver.get(f"/api/sessions/{session}"), tablet.get(f"/api/sessions/{session}")]
        assert [state.json()["seq"] for state in states] == [stored[-1], stored[-1]]
        assert states[0].json()["step"] == states[1].json()["step"]
        giver.close()
        tablet.close()
    finally:
        first.stop()
        second.stop()


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


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
        # Six devices and three senders, each on its own connection: the kernel spreads the
        # connections over the two workers, so streams and senders end up on different ones.
        senders = [server.client(cookies=giver.cookies, headers=dict(giver.headers))]
        senders += [server.client(cookies=giver.cookies, headers=dict(giver.headers))]
        senders.append(giver)
        followers = [(server.url, giver.cookies)] * 6
        stored, seen = asyncio.run(_feedback_everywhere(senders, followers, session))
        _assert_every_device_saw_every_event(stored, seen)
        for sender in senders:
            sender.close()
    finally:
        server.stop()
