"""Bytes on the wire: text replies gzipped for a client that accepts it, the live stream never,
and the static files under versioned links a browser keeps for a year."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from backrub import __version__
from backrub.web.static_files import LONG_CACHE, SHORT_CACHE, STATIC, served, versions
from tests.webserver import Server, module_server, start_session, step_change_bytes

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}
STATIC_LINK = re.compile(r'(?:href|src)="(/static/[^"?]+)\?v=([^"]+)"')


# Compression does not depend on the database: one SQLite server for the module.
server = module_server("bytes", speed=20.0)


@pytest.fixture(scope="module")
def session_id(server: Server) -> str:
    with server.client() as client:
        return str(start_session(client)["id"])


def texts(session_id: str) -> list[str]:
    """A page, a JSON reply, an SVG reply and the static files of each kind."""
    return [
        f"/session/{session_id}",
        "/history",
        f"/api/sessions/{session_id}",
        f"/api/sessions/{session_id}/map.svg",
        "/static/app.css",
        "/static/live.js",
    ]


def test_text_replies_are_gzipped_for_a_client_that_accepts_it(
    server: Server, session_id: str
) -> None:
    with server.client() as client:
        for path in texts(session_id):
            packed = client.get(path, headers=GZIP)
            plain = client.get(path, headers=IDENTITY)
            assert packed.status_code == plain.status_code == 200, path
            assert packed.headers.get("content-encoding") == "gzip", path
            assert "accept-encoding" in packed.headers.get("vary", "").lower(), path
            # What arrives is the same reply (the live ones move with the clock), in far fewer
            # bytes.
            if path.startswith("/static/"):
                assert packed.content == plain.content, path
            assert packed.num_bytes_downloaded < plain.num_bytes_downloaded / 2, path
            # Without gzip in Accept-Encoding: sent as it is.
            assert "content-encoding" not in plain.headers, path
            assert plain.num_bytes_downloaded == len(plain.content), path


def test_a_tiny_reply_is_not_worth_packing(server: Server) -> None:
    with server.client() as client:
        icon = client.get("/static/icon.svg", headers=GZIP)
    assert icon.status_code == 200 and len(icon.content) < 500
    assert "content-encoding" not in icon.headers


def test_the_live_stream_is_not_compressed_and_delivers_each_event(
    server: Server, session_id: str
) -> None:
    """A device that accepts gzip still gets the stream plain, each event as it happens: a
    compressor would hold events back until its buffer fills."""
    seen: list[dict[str, Any]] = []
    headers: dict[str, str] = {}
    first = threading.Event()

    def follow() -> None:
        with (
            server.client(headers=GZIP) as device,
            device.stream("GET", f"/api/sessions/{session_id}/stream") as reply,
        ):
            headers.update(reply.headers)
            for line in reply.iter_lines():
                if line.startswith("data: "):
                    seen.append(json.loads(line[6:]))
                    first.set()
                    if seen[-1]["status"] == "paused":
                        return

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    assert first.wait(10)
    with server.client() as giver:
        giver.post(f"/api/sessions/{session_id}/events", json={"kind": "pause"})
    follower.join(10)
    assert not follower.is_alive(), "the pause never reached the following device"
    assert seen[-1]["status"] == "paused"
    assert headers["content-type"].startswith("text/event-stream")
    assert "content-encoding" not in headers


def test_pages_link_static_files_by_version_and_those_are_kept_a_year(
    server: Server, session_id: str
) -> None:
    with server.client() as client:
        links: set[tuple[str, str]] = set()
        for page in (f"/session/{session_id}", f"/session/{session_id}/remote", "/history", "/"):
            html = client.get(page).text
            assert not re.search(r'(?:href|src)="/static/[^"?]+"', html), page  # none bare
            links |= set(STATIC_LINK.findall(html))
        assert {path for path, _ in links} >= {
            "/static/app.css",
            "/static/icon.svg",
            "/static/live.css",
            "/static/live.js",
            "/static/review.css",
            "/static/remote.js",
        }
        for path, version in links:
            assert version == versions()[Path(path).name], path
            reply = client.get(f"{path}?v={version}")
            assert reply.status_code == 200, path
            assert reply.headers["cache-control"] == LONG_CACHE, path
        # An unversioned or outdated link (an old page after an upgrade): kept only briefly.
        assert client.get("/static/app.css").headers["cache-control"] == SHORT_CACHE
        old = client.get("/static/app.css?v=0.0.1-0000000000")
        assert old.status_code == 200 and old.headers["cache-control"] == SHORT_CACHE


def test_a_version_names_backrub_and_the_files_content() -> None:
    """The version changes with the content or with backrub (so a browser never keeps an old
    file under a new file's link)."""
    for name, version in versions().items():
        content = served(name)  # a script as served: its imports carry their versions
        assert version == f"{__version__}-{hashlib.sha256(content).hexdigest()[:10]}", name
    assert set(versions()) >= {"app.css", "live.css", "live.js", "icon.svg", "review.css"}
    assert served("app.css") == (STATIC / "app.css").read_bytes()


def test_a_scripts_imports_are_versioned_and_kept_a_year(server: Server) -> None:
    """live.js imports map.js and voice.js, which no page links: a next visit fetches them
    neither, and a new map.js gives live.js a new version too."""
    with server.client() as client:
        page = client.get(f"/session/{start_session(client)['id']}").text
        live = re.search(r'src="(/static/live\.js\?v=[^"]+)"', page)
        assert live
        script = client.get(live.group(1))
        imports = re.findall(r'from "\./([a-z]+\.js)\?v=([^"]+)"', script.text)
        assert {name for name, _ in imports} >= {"map.js", "voice.js"}
        for name, version in imports:
            assert version == versions()[name], name
            kept = client.get(f"/static/{name}?v={version}")
            assert kept.status_code == 200 and "javascript" in kept.headers["content-type"]
            assert kept.headers["cache-control"] == LONG_CACHE, name
        assert 'from "./map.js"' not in script.text  # none left unversioned


STEP_CHANGE_BYTES = 5_000


def test_a_step_change_costs_under_5_kb(server: Server) -> None:
    """Not the whole map again (about 6,700 B gzipped, 30 KB plain): the page has it."""
    with server.client() as client:
        session_id = str(start_session(client, minutes=30)["id"])
        whole = client.get(f"/api/sessions/{session_id}/map.svg", headers=GZIP)
    costs = step_change_bytes(server, session_id)
    assert sum(costs.values()) <= STEP_CHANGE_BYTES, costs
    assert costs["step's map part"] < whole.num_bytes_downloaded / 3, costs


def test_a_scripts_version_follows_its_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backrub.web import static_files

    (tmp_path / "page.js").write_text('import { a } from "./part.js";\nimport("./gone.js");\n')
    (tmp_path / "part.js").write_text("export const a = 1;\n")
    monkeypatch.setattr(static_files, "STATIC", tmp_path)
    static_files.served.cache_clear()
    static_files.versions.cache_clear()
    try:
        before = static_files.versions()
        text = static_files.served("page.js").decode()
        assert f'from "./part.js?v={before["part.js"]}"' in text
        assert 'import("./gone.js")' in text  # no such file: left as written
        (tmp_path / "part.js").write_text("export const a = 2;\n")
        static_files.served.cache_clear()
        static_files.versions.cache_clear()
        after = static_files.versions()
        assert after["part.js"] != before["part.js"] and after["page.js"] != before["page.js"]
    finally:
        static_files.served.cache_clear()
        static_files.versions.cache_clear()
