"""The local server's defences: the Host check (DNS rebinding), the CSRF token on every change,
no copies of receivers' data kept by browsers or proxies (Cache-Control: no-store)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from backrub.web.app import WebSettings, create_app
from backrub.web.hosts import HostCheck
from backrub.web.security import CACHEABLE_PREFIXES
from tests.webserver import Server, module_server, start_server, start_session

OPEN_LINE = re.compile(r"^  Open (http://\S+)$", re.MULTILINE)
META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
FIELD_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


local = module_server("local")


@pytest.fixture(scope="module")
def session_id(local: Server) -> str:
    with local.client() as client:
        found: str = start_session(client)["id"]
        return found


CSRF = "X-CSRF-Token"


def port(server: Server) -> int:
    found = urlsplit(server.url).port
    assert found is not None
    return found


def sessions_stored(server: Server) -> int:
    with server.client() as client:
        return len(client.get("/api/sessions").json())


def assert_wrong_host(reply: httpx.Response, host: str) -> None:
    assert reply.status_code == 400, (host, reply.status_code, reply.text[:200])
    body = reply.json()
    assert f"does not answer to the host name {host!r}" in body["error"]
    assert reply.headers["cache-control"] == "no-store"


# ------------------------------------------------------------------------------ Host check


def test_a_rebound_name_is_refused_before_any_route_runs(local: Server, session_id: str) -> None:
    """A page of evil.example whose name now points to 127.0.0.1 reads and changes nothing."""
    before = sessions_stored(local)
    evil = f"evil.example:{port(local)}"
    headers = {"Host": evil, "Origin": f"http://{evil}"}
    with local.client(headers=headers) as client:
        for path in (
            "/",
            "/history",
            f"/session/{session_id}",
            f"/session/{session_id}/summary",
            "/api/sessions",
            f"/api/sessions/{session_id}",
            "/api/profiles",
            "/openapi.json",
            "/static/app.css",
            "/no-such-page",
        ):
            assert_wrong_host(client.get(path), evil)
        with client.stream("GET", f"/api/sessions/{session_id}/stream") as stream:
            stream.read()
            assert_wrong_host(stream, evil)
        assert_wrong_host(client.post("/api/sessions", json={"minutes": 10}), evil)
        stop = client.post(f"/api/sessions/{session_id}/events", json={"kind": "stop"})
        assert_wrong_host(stop, evil)
    assert sessions_stored(local) == before
    with local.client() as client:
        assert client.get(f"/api/sessions/{session_id}").json()["status"] != "stopped"


@pytest.mark.parametrize(
    "host",
    ["evil.example", "127.0.0.1.evil.example", "localhost.", "127.0.0.2", "0.0.0.0", "[::2]"],
)
def test_other_names_and_other_ports_are_refused(local: Server, host: str) -> None:
    with local.client() as client:
        for given in (f"{host}:{port(local)}", host):
            assert_wrong_host(client.get("/api/sessions", headers={"Host": given}), given)
    with local.client() as client:
        for name in ("127.0.0.1", "localhost"):
            given = f"{name}:{port(local) + 1}"  # the right name, another server's port
            assert_wrong_host(client.get("/api/sessions", headers={"Host": given}), given)


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LocalHost", "[::1]"])
def test_this_machines_own_names_are_answered(local: Server, name: str) -> None:
    with local.client() as client:
        reply = client.get("/api/sessions", headers={"Host": f"{name}:{port(local)}"})
        assert reply.status_code == 200, reply.text


def test_with_lan_the_printed_addresses_are_answered_and_no_other(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--lan")
    try:
        printed = OPEN_LINE.findall(server.output())
        assert printed, server.output()
        with server.client() as client:
            for link in printed:
                host = urlsplit(link).netloc
                reply = client.get("/pair", headers={"Host": host})
                assert reply.status_code == 200, (host, reply.text[:200])
            evil = f"evil.example:{port(server)}"
            assert_wrong_host(client.get("/pair", headers={"Host": evil}), evil)
            # The right code sent through a rebound name pairs nothing.
            code = {"code": server.pairing_code()}
            reply = client.post("/pair", data=code, headers={"Host": evil})
            assert_wrong_host(reply, evil)
            assert not reply.cookies
            # The pair page does not show the token to a device that has not paired.
            assert "csrf" not in client.get("/pair").text.lower()
            assert client.get("/api/token").status_code == 401
        with server.paired_client(csrf=False) as paired:
            refused = paired.post("/api/sessions", json={"minutes": 10})
            assert refused.status_code == 403 and "CSRF token" in refused.json()["error"]
            token = paired.get("/api/token").json()["csrf_token"]
            sent = paired.post("/api/sessions", json={"minutes": 10}, headers={CSRF: token})
            assert sent.status_code == 201, sent.text
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("header", "allowed"),
    [
        ("localhost:8765", True),
        ("[::1]:8765", True),
        ("127.0.0.1:8765", True),
        ("127.0.0.1", False),  # port 80
        ("localhost:8766", False),
        ("::1:8765", False),  # an IPv6 address without brackets is not a Host
        ("localhost:8765/x", False),
        ("user@localhost:8765", False),
        ("localhost:notaport", False),
        ("", False),
    ],
)
def test_the_host_check_reads_host_headers_strictly(header: str, allowed: bool) -> None:
    async def app(*_: object) -> None:
        raise AssertionError("not called")

    check = HostCheck(app, names=("127.0.0.1", "localhost", "[::1]"))
    assert check.allows(header, 8765) is allowed


# ------------------------------------------------------------------------------ no-store


def routes(found: Iterable[object]) -> Iterator[tuple[str, frozenset[str]]]:
    """Every route's (path, methods), routers included (FastAPI keeps them as included routers)."""
    for route in found:
        router = getattr(route, "original_router", None)
        if router is not None:
            yield from routes(router.routes)
        elif hasattr(route, "methods") and hasattr(route, "path"):
            yield route.path, frozenset(route.methods or ())


def get_paths(folder: Path) -> list[str]:
    """The path of every GET route of a local (and --lan) server: pages and API."""
    app = create_app(WebSettings(database_url=f"sqlite:///{folder / 'routes.db'}"))
    found = sorted({path for path, methods in routes(app.routes) if "GET" in methods})
    assert {"/", "/history", "/api/sessions", "/api/sessions/{session_id}/stream"} <= set(found)
    return found


def test_no_reply_with_receivers_data_may_be_kept_by_a_browser(
    local: Server, session_id: str, tmp_path: Path
) -> None:
    with local.client() as client:
        reply = client.post("/api/profiles", json={"name": "Robin"})
        assert reply.status_code == 201, reply.text
        profile_id = reply.json()["id"]
        ids = {"session_id": session_id, "profile_id": str(profile_id)}
        checked = []
        for template in get_paths(tmp_path):
            if template.startswith(CACHEABLE_PREFIXES):
                continue  # the same for everyone (the technique pictures): checked below
            path = template.format(**ids)
            if path.endswith("/stream"):
                with client.stream("GET", path) as stream:
                    status, headers = stream.status_code, stream.headers
            else:
                answer = client.get(path)
                status, headers = answer.status_code, answer.headers
            assert status < 400 or path == "/pair", (path, status)
            assert headers.get("cache-control") == "no-store", path
            checked.append(path)
        assert f"/api/sessions/{session_id}/summary" in checked
        assert f"/api/profiles/{profile_id}" in checked
        # Replies to changes carry the data too; so do refusals (they may name a receiver).
        for reply in (
            client.post("/api/plans", json={"minutes": 10}),
            client.post(f"/api/sessions/{session_id}/events", json={"kind": "more"}),
            client.post(f"/profiles/{profile_id}/check-in", data={}),
            client.get("/api/sessions/no-such-session"),
            client.get("/no-such-page"),
        ):
            assert reply.headers.get("cache-control") == "no-store", reply.request.url
        # The static files are the same for everyone: those may be cached.
        assert "no-store" not in client.get("/static/app.css").headers.get("cache-control", "")
        # So may the technique pictures (versioned URLs); their list stays no-store.
        listing = client.get("/api/techniques")
        assert listing.headers.get("cache-control") == "no-store"
        picture = client.get(listing.json()["techniques"][0]["picture"])
        assert picture.status_code == 200
        assert "max-age=31536000" in picture.headers.get("cache-control", "")


# ------------------------------------------------------------------------------ CSRF token


def test_a_change_without_the_servers_token_is_refused_and_changes_nothing(
    local: Server, session_id: str
) -> None:
    """Neither Origin nor Sec-Fetch-Site (an old browser, a plain form, a hidden referrer):
    the missing token alone stops it."""
    with local.client() as client:
        profile = client.post("/api/profiles", json={"name": "Kim"}).json()["id"]
        before = client.get(f"/api/sessions/{session_id}").json()
        stored = sessions_stored(local)
        names = [p["name"] for p in client.get("/api/profiles").json()]
    with local.client(csrf=False) as plain:
        for sent in ({}, {CSRF: ""}, {CSRF: "a-guess"}):
            for path, body in (
                ("/api/sessions", {"minutes": 10}),
                ("/api/profiles", {"name": "Lee"}),
                (f"/api/profiles/{profile}/check-ins", {"regions": []}),
                ("/api/plans", {"minutes": 10}),
                (f"/api/sessions/{session_id}/events", {"kind": "stop"}),
            ):
                reply = plain.post(path, json=body, headers=sent)
                assert reply.status_code == 403, (path, sent, reply.text)
                assert "CSRF token" in reply.json()["error"]
            field = {"csrf_token": sent[CSRF]} if sent else {}
            for path, form in (
                ("/session", {"minutes": "10", "profile_name": "Lee"}),
                ("/plan", {"minutes": "10"}),
                (f"/profiles/{profile}/check-in", {"regions": "middle-trapezius-right"}),
            ):
                reply = plain.post(path, data={**form, **field})  # a plain cross-site form
                assert reply.status_code == 403, (path, sent, reply.text)
    with local.client() as client:
        assert client.get(f"/api/sessions/{session_id}").json()["seq"] == before["seq"]
        assert sessions_stored(local) == stored
        assert [p["name"] for p in client.get("/api/profiles").json()] == names
        assert client.get(f"/api/profiles/{profile}").json()["check_ins"] == []


def test_the_pages_and_api_token_carry_the_changes_through(local: Server) -> None:
    with local.client(csrf=False) as plain:
        reply = plain.get("/api/token")
        assert reply.status_code == 200 and reply.headers["cache-control"] == "no-store"
        token = reply.json()["csrf_token"]
        assert len(token) >= 32
        page = plain.get("/").text
        meta = META_TOKEN.search(page)
        assert meta and meta.group(1) == token  # the live page sends this one
        assert FIELD_TOKEN.findall(page) == [token]  # the start form
        # A script: the token in the header.
        started = plain.post("/api/sessions", json={"minutes": 10}, headers={CSRF: token})
        assert started.status_code == 201, started.text
        # A page: the token in the form's field, found in the page as a browser would.
        form = {"minutes": "10", "profile_name": "Ash", "csrf_token": token}
        planned = plain.post("/plan", data=form)
        assert planned.status_code == 200
        assert FIELD_TOKEN.findall(planned.text) == [token]  # the plan page's start form
        begun = plain.post("/session", data=form)
        assert begun.status_code == 303, begun.text


def test_a_restarted_server_has_a_new_token(tmp_path: Path) -> None:
    tokens = []
    for _ in range(2):
        server = start_server(tmp_path)
        try:
            with server.client() as client:
                tokens.append(client.get("/api/token").json()["csrf_token"])
        finally:
            server.stop()
    assert tokens[0] != tokens[1]
