"""A server killed mid-session loses nothing: restarted on the same database, it goes on."""

from __future__ import annotations

import signal
from pathlib import Path

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
    finally:
        again.stop()
