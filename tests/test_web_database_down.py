"""The database goes away under live sessions, and comes back.

While it is away (PostgreSQL restarting, a SQLite disk full) every press is answered 503 with
Retry-After and the app's error body, and nothing is half-applied: the engine never takes an
event the log does not hold. Devices still see the session. Once the database is back every
session goes on, holding exactly the presses that were acknowledged.
"""

from __future__ import annotations

import itertools
import json
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from backrub.live import LiveRun
from backrub.session import EventKind
from backrub.session.summary import summarize
from backrub.store import Store
from tests.hosted_helpers import HOSTED_ENV, sign_up
from tests.throwaway_postgres import Cluster, throwaway_postgres
from tests.webserver import Server, start_server, start_session

__all__ = ["throwaway_postgres"]  # the fixture, used by name

KINDS = ("more", "less")  # feedback that never ends a session, however often it comes
PAUSE = 0.05  # seconds between one device's presses
WAIT = 30.0  # seconds a test waits for something before giving up
SESSIONS = 3


@dataclass
class Device:
    """One device pressing feedback on one session, as fast as a person tapping."""

    client: httpx.Client
    session: str
    acknowledged: list[str] = field(default_factory=list)  # kinds answered 200, in order
    refused: list[httpx.Response] = field(default_factory=list)  # the 503 replies
    unexpected: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def press(self, kind: str) -> httpx.Response:
        return self.client.post(f"/api/sessions/{self.session}/events", json={"kind": kind})

    def run(self) -> None:
        for kind in itertools.cycle(KINDS):
            if self.stop.is_set():
                return
            try:
                reply = self.press(kind)
            except httpx.HTTPError as error:
                self.unexpected.append(f"no reply: {error!r}")
                continue
            if reply.status_code == 200:
                self.acknowledged.append(kind)
            elif reply.status_code == 503:
                self.refused.append(reply)
            else:
                self.unexpected.append(f"{reply.status_code} {reply.text[:200]}")
            time.sleep(PAUSE)


def wait_for(
    what: str, condition: Callable[[], bool], instead: Callable[[], object] = lambda: None
) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT:g} s: {what}; instead {instead()}")
        time.sleep(0.05)


def assert_clear_refusal(reply: httpx.Response) -> None:
    assert reply.status_code == 503
    assert int(reply.headers["Retry-After"]) > 0
    assert reply.headers["Cache-Control"] == "no-store"
    assert "not saved" in reply.json()["error"]


def stored_feedback(url: str, session: str) -> list[str]:
    """The kinds of the session's stored events, in order, save points left out."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT kind FROM events WHERE session_id = :s AND kind <> 'tick' ORDER BY seq"
                ),
                {"s": session},
            )
            return [kind for (kind,) in rows]
    finally:
        engine.dispose()


def session_owner(url: str, session: str) -> int | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            query = text("SELECT account_id FROM sessions WHERE id = :s")
            owner: int | None = connection.execute(query, {"s": session}).scalar_one()
            return owner
    finally:
        engine.dispose()


def assert_engine_matches_log(server: Server, device: Device) -> None:
    """What the server's engine shows holds exactly what a replay of the stored log holds."""
    live = device.client.get(f"/api/sessions/{device.session}")
    summary = device.client.get(f"/api/sessions/{device.session}/summary")
    assert live.status_code == summary.status_code == 200
    with Store.open(server.database_url) as store:
        owner = session_owner(server.database_url, device.session)
        record = store.session(device.session, account=owner)
        # The session a device follows keeps its clock running: its stream may store a save
        # point after the look above, also while this reads the log. What the replay holds past
        # what the engine showed must be save points only; anything else is a miss. (Read after
        # the replay: a save point stored between two reads must not count as missing.)
        replayed = LiveRun.resume(store, record, account=owner)
        later = [
            event
            for seq, event in store.numbered_events(
                device.session, after=live.json()["seq"], account=owner
            )
            if seq <= replayed.seq
        ]
        assert [event.kind for event in later] == [EventKind.TICK] * len(later)
        assert live.json()["seq"] == replayed.seq - len(later)
        assert summary.json()["summary"]["reactions"] == summarize(replayed.engine)["reactions"]


def assert_kept_once(stored: list[str], acknowledged: list[str], *, cut_commits: int = 0) -> None:
    """Every acknowledged press is stored, in order, and nothing else, except for at most
    `cut_commits` presses whose commit the database kept as the connection broke (the device
    was told 503: the one window docs/deploy.md names)."""
    extra = len(stored) - len(acknowledged)
    assert 0 <= extra <= cut_commits, (stored, acknowledged)
    rest = iter(stored)
    assert all(kind in rest for kind in acknowledged), (stored, acknowledged)


def start_pressing(devices: list[Device]) -> list[threading.Thread]:
    threads = [threading.Thread(target=device.run, daemon=True) for device in devices]
    for thread in threads:
        thread.start()
    return threads


def stop_pressing(devices: list[Device], threads: list[threading.Thread]) -> None:
    for device in devices:
        device.stop.set()
    for thread in threads:
        thread.join(WAIT)


@dataclass
class Follower:
    """A device following one session's live stream, from before the database goes away."""

    client: httpx.Client
    session: str
    seen: list[int] = field(default_factory=list)  # the seq of every state it was shown
    ended: list[str] = field(default_factory=list)  # how the stream ended, if it did

    def run(self) -> None:
        try:
            with self.client.stream("GET", f"/api/sessions/{self.session}/stream") as reply:
                for line in reply.iter_lines():
                    if line.startswith("data: "):
                        self.seen.append(json.loads(line[6:])["seq"])
            self.ended.append("the server ended the stream")
        except httpx.HTTPError as error:
            self.ended.append(repr(error))


def test_a_postgresql_restart_under_load_loses_and_doubles_nothing(
    throwaway_postgres: Cluster, tmp_path: Path
) -> None:
    env = {**HOSTED_ENV, "BACKRUB_DATABASE_URL": throwaway_postgres.url}
    server = start_server(tmp_path, "--hosted", speed=20.0, env=env)
    try:
        giver = sign_up(server)
        devices = [
            Device(
                server.client(cookies=giver.cookies, headers=dict(giver.headers)),
                start_session(giver, minutes=30)["id"],
            )
            for _ in range(SESSIONS)
        ]
        follower = Follower(server.client(cookies=giver.cookies), devices[0].session)
        threads = start_pressing(devices)
        threading.Thread(target=follower.run, daemon=True).start()
        try:
            wait_for("presses stored", lambda: all(len(d.acknowledged) >= 3 for d in devices))
            throwaway_postgres.stop()  # "fast": every connection is ended, as in a restart
            wait_for(
                "presses refused",
                lambda: all(len(d.refused) >= 3 for d in devices),
                lambda: [d.unexpected[-3:] for d in devices],
            )
            # Hosted, even a look needs the database (the log-in is in it): a clear 503 too.
            assert_clear_refusal(giver.get(f"/api/sessions/{devices[0].session}"))
            before = [len(device.acknowledged) for device in devices]
            throwaway_postgres.start()
            wait_for(
                "presses stored after the restart",
                lambda: all(
                    len(d.acknowledged) >= n + 3 for d, n in zip(devices, before, strict=True)
                ),
            )
        finally:
            stop_pressing(devices, threads)

        for device in devices:
            assert device.unexpected == []
            for reply in device.refused:
                assert_clear_refusal(reply)
            assert_engine_matches_log(server, device)
            stored = stored_feedback(server.database_url, device.session)
            assert_kept_once(stored, device.acknowledged, cut_commits=1)
        # The stream opened before the restart lived through it and shows the newest event.
        newest = devices[0].client.get(f"/api/sessions/{devices[0].session}").json()["seq"]
        wait_for("the stream shows the newest event", lambda: newest in follower.seen)
        assert follower.ended == []
        for device in devices:
            device.client.close()
        follower.client.close()
        giver.close()
    finally:
        server.stop()


def test_a_full_sqlite_disk_refuses_presses_until_there_is_room_again(tmp_path: Path) -> None:
    server = start_server(tmp_path, speed=20.0)
    try:
        with server.client() as client:
            device = Device(client, start_session(client, minutes=30)["id"])
            for kind in KINDS:
                assert device.press(kind).status_code == 200
                device.acknowledged.append(kind)
            # The disk fills up: no file of the server may grow more than a few pages.
            pid = server.process.pid
            files = [server.database, Path(f"{server.database}-wal"), server.log]
            room = max(path.stat().st_size for path in files if path.exists()) + 32 * 1024
            _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (room, hard))
            for kind in itertools.islice(itertools.cycle(KINDS), 200):
                reply = device.press(kind)
                if reply.status_code != 200:
                    break
                device.acknowledged.append(kind)
            assert_clear_refusal(reply)
            assert client.get(f"/api/sessions/{device.session}").status_code == 200
            assert device.press("more").status_code == 503  # still full: still refused

            resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))  # room again
            for kind in KINDS:
                reply = device.press(kind)
                assert reply.status_code == 200, reply.text
                device.acknowledged.append(kind)
            assert_engine_matches_log(server, device)
            assert stored_feedback(server.database_url, device.session) == device.acknowledged
    finally:
        server.stop()
