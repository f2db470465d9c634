"""A server killed mid-session loses nothing: restarted on the same database, it goes on."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path
from typing import Any

import httpx

from backrub.live import SAVE_EVERY
from tests.webserver import start_server


def test_a_killed_server_resumes_the_session_at_the_same_step(
    tmp_path: Path, database_url: str
) -> None:
    env = {"BACKRUB_DATABASE_URL": database_url}
    server = start_server(tmp_path, speed=1.0, env=env)
    try:
        with server.client() as client:
            session = client.post("/api/sessions", json={"minutes": 10}).json()["id"]
            for kind in ("skip", "skip", "more", "pause"):
                reply = client.post(f"/api/sessions/{session}/events", json={"kind": kind})
                assert reply.status_code == 200
            before = client.get(f"/api/sessions/{session}").json()
    finally:
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
    again = start_server(tmp_path, speed=1.0, env=env)
    try:
        with again.client() as client:
            after = client.get(f"/api/sessions/{session}").json()
            assert after["status"] == "paused"
            assert after["step"] == before["step"]
            assert after["worked"] == before["worked"]
            resumed = client.post(f"/api/sessions/{session}/events", json={"kind": "resume"})
            assert resumed.json()["status"] == "running"
            # The resumed clock runs: hands-on time goes on from where it stood.
            running = ran_past(client, session, after["worked"])
    finally:
        again.process.send_signal(signal.SIGKILL)
        again.process.wait()
    # Killed while running: back at the last save point, still running, and running on.
    third = start_server(tmp_path, speed=1.0, env=env)
    try:
        with third.client() as client:
            back = client.get(f"/api/sessions/{session}").json()
            assert back["status"] == "running"
            assert back["worked"] >= running["worked"] - SAVE_EVERY
            ran_past(client, session, back["worked"])
    finally:
        third.stop()


def ran_past(client: httpx.Client, session: str, worked: float) -> dict[str, Any]:
    """The session's state once its hands-on time has gone past `worked` (it must, soon)."""
    deadline = time.monotonic() + 20
    while True:
        state: dict[str, Any] = client.get(f"/api/sessions/{session}").json()
        if state["worked"] > worked:
            return state
        assert time.monotonic() < deadline, f"the clock stands still at {state['worked']} s"
        time.sleep(0.2)


def test_a_session_that_finished_on_its_own_is_finished_after_a_restart(
    tmp_path: Path, database_url: str
) -> None:
    env = {"BACKRUB_DATABASE_URL": database_url}
    server = start_server(tmp_path, speed=100.0, env=env)
    try:
        with server.client() as client:
            session = client.post("/api/sessions", json={"minutes": 5}).json()["id"]
            deadline = time.monotonic() + 30
            while client.get(f"/api/sessions/{session}").json()["status"] != "finished":
                assert time.monotonic() < deadline, "the 5-minute session did not finish"
                time.sleep(0.2)
            worked = client.get(f"/api/sessions/{session}").json()["worked"]
    finally:
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
    again = start_server(tmp_path, speed=100.0, env=env)
    try:
        with again.client() as client:
            # Replayed from the log alone: finished, so the live page sends to the summary.
            state = client.get(f"/api/sessions/{session}").json()
            assert state["status"] == "finished" and state["worked"] == worked
            page = client.get(f"/session/{session}", follow_redirects=False)
            assert page.status_code == 303
            assert page.headers["location"] == f"/session/{session}/summary"
            assert "How it ended Finished" in " ".join(
                re.sub(r"<[^>]+>", " ", client.get(page.headers["location"]).text).split()
            )
    finally:
        again.stop()
