"""`backrub serve --lan`: a device without the code gets nothing; with it, everything works.

One real `--lan` server serves the module; the code is read from its printed output, as a
person reads it off the terminal. The limit on wrong codes has a server of its own.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import segno
from playwright.sync_api import Page, expect

from backrub.web.pairing import Attempts, Pairing, new_code
from tests.web.conftest import AssertLocal, PageAt, Screenshot
from tests.webserver import Server, module_server, start_server

NOT_PAIRED = "pair this device first: "
WRONG = "That is not the code"
# Everything that holds data: each answers 401 to a device that has not paired.
DATA_PATHS = (
    "/api/options",
    "/api/atlas",
    "/api/profiles",
    "/api/sessions",
    "/openapi.json",
    "/static/tapmap.js",
    "/static/print.js",
)


lan_server = module_server("lan", "--lan")


@pytest.fixture(scope="module")
def session_id(lan_server: Server) -> str:
    """A running session, started by a paired device: what an unpaired one must not see."""
    with lan_server.paired_client() as client:
        reply = client.post("/api/sessions", json={"profile_name": "Sam"})
    assert reply.status_code == 201, reply.text
    found: str = reply.json()["id"]
    return found


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def assert_not_paired(reply: httpx.Response) -> None:
    assert reply.status_code == 401, (reply.request.url, reply.status_code)
    body = reply.json()
    assert list(body) == ["error"]
    assert body["error"].startswith(NOT_PAIRED)
    assert "set-cookie" not in reply.headers


def guess_once(server: Server, code: str) -> int:
    with server.client() as client:
        return client.get("/pair", params={"code": code}).status_code


def pair_cookie(reply: httpx.Response) -> str:
    return reply.headers.get("set-cookie", "")


# The printed output


def test_the_output_shows_the_code_the_links_and_a_qr_code(lan_server: Server) -> None:
    output = lan_server.output()
    code = lan_server.pairing_code()
    assert re.fullmatch(r"\d{6}", code)
    assert "only devices with the pairing code can connect" in output.lower()
    assert "Ctrl-C stops the server" in output
    assert f"{lan_server.url}/" in output  # this computer's own browser
    link = lan_server.pair_link()
    parts = urlsplit(link)
    assert parts.port == urlsplit(lan_server.url).port
    assert f"{parts.path}?{parts.query}" == f"/pair?code={code}"
    drawn = io.StringIO()
    segno.make(link).terminal(out=drawn, compact=True)
    assert drawn.getvalue().strip() in output  # the QR code holds exactly the printed link


# A device without the code


def test_a_device_that_has_not_paired_gets_nothing(lan_server: Server, session_id: str) -> None:
    with lan_server.paired_client() as paired:
        sessions_before = len(paired.get("/api/sessions").json())
    with lan_server.client(follow_redirects=False) as client:
        for method, path in (("GET", "/"), ("GET", "/docs"), ("POST", "/plan")):
            reply = client.request(method, path)
            assert reply.status_code == 303, path
            assert reply.headers["location"] == "/pair"
            assert "content-security-policy" in reply.headers
        for path in (*DATA_PATHS, f"/api/sessions/{session_id}", "/api/nowhere"):
            assert_not_paired(client.get(path))
        for path in ("/stream", "/summary", "/map.svg"):
            assert_not_paired(client.get(f"/api/sessions/{session_id}{path}"))
        assert_not_paired(client.post("/api/sessions", json={"profile_name": "Eve"}))
        assert_not_paired(client.post(f"/api/sessions/{session_id}/events", json={"kind": "ouch"}))
        # /pair and the three files it loads are open to all.
        assert client.get("/pair").status_code == 200
        assert client.get("/static/app.css").status_code == 200
        assert client.get("/static/icon.svg").status_code == 200
        assert client.get("/static/theme.js").status_code == 200  # its theme switch
    with lan_server.client(cookies={f"backrub_device_{port(lan_server)}": "forged"}) as client:
        assert_not_paired(client.get("/api/options"))
    with lan_server.paired_client() as paired:
        assert len(paired.get("/api/sessions").json()) == sessions_before  # nothing was started


def test_a_wrong_code_is_refused_next_to_the_field(lan_server: Server) -> None:
    code = lan_server.pairing_code()
    with lan_server.client(follow_redirects=False) as client:
        for reply in (
            client.post("/pair", data={"code": wrong(code)}),
            client.get("/pair", params={"code": wrong(code)}),
        ):
            assert reply.status_code == 403
            assert WRONG in reply.text
            assert 'id="code"' in reply.text and 'aria-invalid="true"' in reply.text
            assert 'id="code-error" role="alert"' in reply.text
            assert not pair_cookie(reply)
            assert code not in reply.text
        malformed = client.post("/pair", data={"code": "12ab"})
        assert malformed.status_code == 422
        assert "6 digits" in malformed.text
        assert_not_paired(client.get("/api/options"))


# A device with the code


def test_the_right_code_pairs_the_device(lan_server: Server, session_id: str) -> None:
    code = lan_server.pairing_code()
    with lan_server.client(follow_redirects=False) as client:
        reply = client.post("/pair", data={"code": f"{code[:3]} {code[3:]}"})
        assert reply.status_code == 303
        assert reply.headers["location"] == "/"
        cookie = pair_cookie(reply)
        assert cookie.startswith(f"backrub_device_{port(lan_server)}=")
        assert "HttpOnly" in cookie
        assert "samesite=strict" in cookie.lower()
        assert "Path=/" in cookie
        assert code not in cookie
        start = client.get("/")
        assert start.status_code == 200
        assert "Plan a back rub" in start.text
        assert client.get("/api/options").json()["activities"]
        assert client.get("/static/tapmap.js").status_code == 200
        assert client.get(f"/api/sessions/{session_id}").json()["status"]
        with client.stream("GET", f"/api/sessions/{session_id}/stream") as stream:
            assert stream.status_code == 200
            first = next(stream.iter_lines())
        assert first == "event: state"
        assert client.get("/pair").headers["location"] == "/"  # already paired


def test_the_qr_codes_link_pairs_at_once(lan_server: Server) -> None:
    link = urlsplit(lan_server.pair_link())
    with lan_server.client(follow_redirects=True) as client:
        reply = client.get(f"{link.path}?{link.query}")
        assert reply.status_code == 200
        assert reply.url.path == "/"
        assert "Plan a back rub" in reply.text
        assert client.get("/api/options").status_code == 200


def test_a_browser_pairs_by_typing_the_code(
    lan_server: Server, page_at: PageAt, screenshot: Screenshot, assert_local: AssertLocal
) -> None:
    page: Page = page_at(360, base_url=lan_server.url)
    page.goto("/")
    expect(page).to_have_url(f"{lan_server.url}/pair")
    field = page.get_by_label("Pairing code")
    expect(field).to_have_attribute("inputmode", "numeric")
    expect(field).to_be_focused()
    screenshot(page, "pair")

    field.press_sequentially(wrong(lan_server.pairing_code()))
    page.get_by_role("button", name="Pair").click()
    expect(page.get_by_role("alert")).to_contain_text(WRONG)
    expect(page.get_by_label("Pairing code")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "pair-wrong-code")
    assert page.request.get("/api/options").status == 401

    page.get_by_label("Pairing code").press_sequentially(lan_server.pairing_code())
    page.get_by_role("button", name="Pair").click()
    expect(page).to_have_url(f"{lan_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Plan a back rub")
    assert page.request.get("/api/options").status == 200
    (cookie,) = page.context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # HttpOnly: scripts cannot read it
    assert_local(page)


# The limit on wrong codes


def test_wrong_codes_are_limited(tmp_path: Path, lan_server: Server) -> None:
    server = start_server(tmp_path, "--lan", "--host", "127.0.0.1")
    try:
        assert server.pair_link().startswith(f"{server.url}/pair?code=")
        code = server.pairing_code()
        with server.paired_client() as paired, server.client() as guesser:
            # A burst of 20 guesses at once: 5 are looked at, the rest wait.
            guesses = [f"{(int(code) + 1 + n) % 1_000_000:06d}" for n in range(20)]
            with ThreadPoolExecutor(max_workers=10) as pool:
                replies = list(pool.map(lambda guess: guess_once(server, guess), guesses))
            assert Counter(replies) == {403: 5, 429: 15}
            limited = guesser.post("/pair", data={"code": wrong(code)})
            assert limited.status_code == 429
            assert "Wait" in limited.text and 'role="alert"' in limited.text
            assert 0 < int(limited.headers["retry-after"]) <= 60
            right = guesser.post("/pair", data={"code": code}, follow_redirects=False)
            assert right.status_code == 429  # even the right code waits: guessing stops
            assert not pair_cookie(right)
            assert_not_paired(guesser.get("/api/options"))
            assert paired.get("/api/options").status_code == 200  # paired devices carry on
        # A token is good for one start of one server only.
        with lan_server.paired_client() as other:
            token = other.cookies[f"backrub_device_{port(lan_server)}"]
        forged = {f"backrub_device_{port(server)}": token}
        with server.client(cookies=forged) as client:
            assert_not_paired(client.get("/api/options"))
    finally:
        server.stop()


def test_attempts_are_forgotten_after_the_window() -> None:
    now = [100.0]
    attempts = Attempts(limit=2, window=60.0, clock=lambda: now[0])
    assert attempts.attempt(right=False) == 0
    assert attempts.attempt(right=True) == 0  # a right code is not counted
    assert attempts.wait() == 0
    now[0] += 10
    assert attempts.attempt(right=False) == 0
    assert attempts.wait() == 50
    assert attempts.attempt(right=True) == 50  # refused, and not counted either
    now[0] += 49.5
    assert attempts.wait() == 1
    now[0] += 0.5
    assert attempts.wait() == 0
    assert attempts.attempt(right=False) == 0
    assert attempts.wait() == 10  # the second wrong code, 10 s after the first, still counts


def test_codes_and_tokens_are_new_each_time() -> None:
    codes = {new_code() for _ in range(50)}
    assert all(re.fullmatch(r"\d{6}", code) for code in codes)
    assert len(codes) > 40
    first, second = Pairing.new(), Pairing.new()
    assert first.token != second.token and len(first.token) >= 40
    assert first.is_code(first.code) and not first.is_code("x" + first.code[1:])


# Without --lan


def test_the_default_bind_needs_no_pairing(web_server: Server) -> None:
    output = web_server.output()
    assert f"backrub is serving on {web_server.url}/" in output
    assert "Pairing code" not in output
    with web_server.client(follow_redirects=False) as client:
        assert client.get("/").status_code == 200
        assert client.get("/api/options").status_code == 200
        assert client.get("/static/tapmap.js").status_code == 200
        reply = client.get("/pair", params={"code": "123456"})
        assert reply.status_code == 303 and reply.headers["location"] == "/"
        assert not pair_cookie(reply)


def port(server: Server) -> int:
    found = urlsplit(server.url).port
    assert found is not None
    return found
