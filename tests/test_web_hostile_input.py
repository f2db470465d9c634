"""Hostile input against a real `backrub serve`, local and hosted, on SQLite and PostgreSQL.

SQL-ish text (quotes, comments, LIKE wildcards, NUL, backslashes, emoji, very long text) sent as
names, e-mail addresses, passwords, region names, ids in paths, query strings and form fields:
either refused with a 4xx that names the field, or, where the text is a fair value (a name with
a quote in it), stored and read back exactly as sent. Never a server error, and the database
holds exactly what it held plus what was rightly stored: nothing dropped, nothing extra.

Oversized input (a 5 MB body, a chunked one, a huge form, header or cookie, JSON nested deeper
than Python recurses, a 10,000-character name, 100,000 region ids) is refused with a clear 4xx
(413 for a body over the cap, before the app reads it) and nothing is stored; the server answers
as usual afterwards.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import inspect, select

from backrub.atlas import Tissue, default_atlas
from backrub.planner.activities import activities
from backrub.safety.screening import screening_questions
from backrub.store import Store, StoreError
from backrub.store.store import UnstorableText
from backrub.store.tables import Base
from backrub.web.auth import CSRF_HEADER, LOGIN_COOKIE
from backrub.web.limits import BODY_LIMIT
from tests.hosted_helpers import (
    PASSWORD,
    database,
    form_token,
    new_address,
    new_email,
    sign_up,
)
from tests.webserver import Server

# Fair names: each must come back exactly as sent.
SQL_ISH_NAMES = [
    "Robert'); DROP TABLE sessions;--",
    "' OR 1=1 --",
    "' OR '1'='1",
    '"; DELETE FROM profiles; --',
    "$$; DROP TABLE events; $$",
    "%",
    "_",
    "%_%",
    "\\",
    "\\x00 (a backslash, not a NUL)",
    "O'Brien \\' \\\" `tick`",
    "Zoë 👩‍👩‍👧‍👦 🙆🏽‍♀️",
    "ç" * 100,  # the longest name, in two-byte characters
    "💆" * 100,  # ... and in four-byte ones
    "<script>alert(1)</script>",
]
SQL_ISH_IDS = [
    "' OR 1=1 --",
    "1 OR 1=1",
    "1; DROP TABLE profiles",
    "%",
    "_",
    "\\",
    "\x00",
    "💆",
    "é" * 2000,
]
TOO_BIG_INTEGERS = [2**31, 2**63, 10**30, -(2**63) - 1]
MEGABYTES_5 = 5_000_000
CLEAR_413 = f"the request body is larger than this server accepts ({BODY_LIMIT} bytes at most)"


# ------------------------------------------------------------------------------ helpers


def tables(server: Server) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table (as text, sorted), and which tables exist: a before-and-after
    picture of the database."""
    with database(server) as db:
        names = sorted(inspect(db).get_table_names())
        rows = {
            table.name: sorted(tuple(str(v) for v in row) for row in db.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }
    return {"(tables)": [tuple(names)], **rows}


def changed(before: dict[str, list[tuple[str, ...]]], after: dict[str, Any]) -> dict[str, Any]:
    """What is in `after` and not in `before`, and what went missing, per table."""
    diff = {}
    for table in before.keys() | after.keys():
        old, new = set(before.get(table, [])), set(after.get(table, []))
        if old != new:
            diff[table] = {"added": sorted(new - old), "gone": sorted(old - new)}
    return diff


def path_part(text: str) -> str:
    """The text as one path segment, every reserved character (/, %, ?, #, NUL) escaped."""
    return quote(text, safe="")


def assert_refused(reply: httpx.Response, field: str, status: int = 422) -> dict[str, Any]:
    assert reply.status_code == status, (reply.status_code, reply.text[:500])
    problem: dict[str, Any] = reply.json()
    assert problem["field"] == field, problem
    assert problem["error"], problem
    return problem


def raw_exchange(server: Server, request: bytes) -> bytes:
    """Send raw bytes and return the first bytes of the reply. The reply is read while the
    request is still being sent: a server that refuses a request it has only begun to read
    answers, then closes, and writing on would only meet a reset connection."""
    address = urlsplit(server.url)
    got: list[bytes] = []
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:

        def read() -> None:
            try:
                got.append(sock.recv(200))
            except OSError:
                got.append(b"")

        reader = threading.Thread(target=read)
        reader.start()
        with contextlib.suppress(OSError):
            sock.sendall(request)
        reader.join(30)
    return got[0] if got else b""


def still_serving(server: Server) -> None:
    """The server process lives and answers as before (/openapi.json: in hosted mode too)."""
    assert server.process.poll() is None, server.output()
    with server.client() as client:
        reply = client.get("/openapi.json")
        assert reply.status_code == 200
        assert "/api/sessions" in reply.json()["paths"]


@pytest.fixture
def client(web_server: Server) -> Iterator[httpx.Client]:
    with web_server.client() as http:
        yield http


@pytest.fixture(scope="module")
def finished(web_server: Server) -> str:
    """A session that is over: requests naming it change nothing, however long they take."""
    with web_server.client() as http:
        session = http.post("/api/sessions", json={"minutes": 5}).json()["id"]
        assert http.post(f"/api/sessions/{session}/events", json={"kind": "stop"}).is_success
    return str(session)


# ------------------------------------------------------------------------------ names


def test_sql_ish_names_are_stored_verbatim_and_nothing_else_changes(
    web_server: Server, client: httpx.Client
) -> None:
    # "Ann" first: were a name looked up with LIKE, "%" or "_" would find her and be refused.
    for name in ["Ann", *SQL_ISH_NAMES]:
        before = tables(web_server)
        reply = client.post("/api/profiles", json={"name": name})
        assert reply.status_code == 201, (name, reply.text)
        profile = reply.json()
        assert profile["name"] == name
        assert client.get(f"/api/profiles/{profile['id']}").json()["name"] == name
        diff = changed(before, tables(web_server))
        assert list(diff) == ["profiles"] and diff["profiles"]["gone"] == [], (name, diff)
        (added,) = diff["profiles"]["added"]
        assert name in added, (name, added)
    listed = [p["name"] for p in client.get("/api/profiles").json()]
    for name in ["Ann", *SQL_ISH_NAMES]:
        assert listed.count(name) == 1, name
    # The same name again is taken: matched exactly, wildcards and quotes and all.
    for name in ("%", "_", "' OR 1=1 --"):
        assert_refused(client.post("/api/profiles", json={"name": name}), "name", 409)


def test_a_sql_ish_name_on_the_start_form_starts_a_session_for_exactly_that_name(
    web_server: Server, client: httpx.Client
) -> None:
    name = "x'); DROP TABLE profiles; -- _%"
    before = tables(web_server)
    reply = client.post("/session", data={"profile_name": name, "minutes": "5"})
    assert reply.status_code == 303, reply.text
    session = reply.headers["location"].rsplit("/", 1)[1]
    record = client.get(f"/api/sessions/{session}").json()
    assert record["session"] == session
    ours = [p for p in client.get("/api/profiles").json() if p["name"] == name]
    assert len(ours) == 1
    listed = client.get("/api/sessions", params={"profile_id": ours[0]["id"]}).json()
    assert [(s["id"], s["receiver"]) for s in listed] == [(session, name)]
    diff = changed(before, tables(web_server))
    assert set(diff) <= {"profiles", "sessions", "events"}, diff
    assert all(not part["gone"] for part in diff.values()), diff
    (profile_row,) = diff["profiles"]["added"]
    assert name in profile_row
    (session_row,) = diff["sessions"]["added"]
    assert session in session_row
    # The pages show the name as text, never as markup.
    page = client.get(f"/profiles/{ours[0]['id']}")
    assert page.status_code == 200
    assert "x&#39;); DROP TABLE profiles; -- _%" in page.text


def test_markup_in_a_name_is_shown_as_text(client: httpx.Client) -> None:
    name = "<script>alert('name')</script>"
    profile = client.post("/api/profiles", json={"name": name}).json()
    page = client.get(f"/profiles/{profile['id']}")
    assert page.status_code == 200
    assert "<script>alert(" not in page.text
    assert "&lt;script&gt;alert(" in page.text


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/profiles", {"name": "Ann\x00"}, "name"),
        ("/api/profiles", {"name": "\x00' OR 1=1 --"}, "name"),
        ("/api/plans", {"profile_name": "Ann\x00Bob"}, "profile_name"),
        ("/api/sessions", {"profile_name": "Ann\x00", "minutes": 5}, "profile_name"),
    ],
)
def test_a_nul_in_a_name_is_refused_naming_the_field_on_both_backends(
    web_server: Server, client: httpx.Client, path: str, body: dict[str, Any], field: str
) -> None:
    # PostgreSQL cannot store a NUL in text; SQLite could, but both must answer the same.
    before = tables(web_server)
    problem = assert_refused(client.post(path, json=body), field)
    assert "NUL" in problem["error"]
    assert changed(before, tables(web_server)) == {}


def test_a_nul_in_a_form_name_is_refused_on_the_page(
    web_server: Server, client: httpx.Client
) -> None:
    before = tables(web_server)
    page = client.post("/session", data={"profile_name": "Ann\x00", "minutes": "5"})
    assert page.status_code == 422
    assert "NUL" in page.text
    assert changed(before, tables(web_server)) == {}


@pytest.mark.parametrize("length", [101, 10_000])
def test_a_name_too_long_is_refused_and_nothing_is_stored(
    web_server: Server, client: httpx.Client, length: int
) -> None:
    before = tables(web_server)
    assert_refused(client.post("/api/profiles", json={"name": "é" * length}), "name")
    assert_refused(
        client.post("/api/sessions", json={"profile_name": "💆" * length}), "profile_name"
    )
    page = client.post("/session", data={"profile_name": "n" * length, "minutes": "5"})
    assert page.status_code == 422
    assert changed(before, tables(web_server)) == {}


# ------------------------------------------------------------------------------ other fields


@pytest.mark.parametrize("text", ["' OR 1=1 --", "%", "_", "\x00", "neck-left' --", "💆" * 500])
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("activities", lambda text: [text]),
        ("trouble_spots", lambda text: [text]),
        ("sore_spots", lambda text: [text]),
        ("yes", lambda text: [text]),
        ("local", lambda text: [f"{text}:bruise"]),
        ("order", lambda text: text),
        ("routine", lambda text: text),
        ("minutes", lambda text: text),
    ],
)
def test_sql_ish_intake_values_are_refused_naming_the_field(
    web_server: Server, client: httpx.Client, text: str, field: str, value: Any
) -> None:
    before = tables(web_server)
    for path in ("/api/plans", "/api/sessions"):
        assert_refused(client.post(path, json={field: value(text)}), field)
    assert changed(before, tables(web_server)) == {}


@pytest.mark.parametrize("text", ["' OR 1=1 --", "%", "_", "\x00", "💆"])
def test_sql_ish_form_fields_are_refused_on_the_page(
    web_server: Server, client: httpx.Client, text: str
) -> None:
    profile = client.post("/api/profiles", json={"name": f"form {text!r}"}).json()
    before = tables(web_server)
    for field in ("activities", "trouble_spots", "yes", "minutes", "pressure", "profile_id"):
        page = client.post("/session", data={"minutes": "5", field: text})
        assert page.status_code == 422, (field, text, page.text[:300])
    check_in = client.post(f"/profiles/{profile['id']}/check-in", data={"regions": text})
    assert check_in.status_code == 422, check_in.text[:300]
    assert changed(before, tables(web_server)) == {}


@pytest.mark.parametrize("text", ["' OR 1=1 --", "%", "_", "\x00", "neck-left'--", "💆"])
def test_sql_ish_regions_are_refused_in_events_and_check_ins(
    web_server: Server, client: httpx.Client, finished: str, text: str
) -> None:
    profile = client.post("/api/profiles", json={"name": f"regions {text!r}"}).json()
    before = tables(web_server)
    reply = client.post(f"/api/sessions/{finished}/events", json={"kind": "knot", "region": text})
    assert_refused(reply, "region")
    reply = client.post(f"/api/profiles/{profile['id']}/check-ins", json={"regions": [text]})
    assert_refused(reply, "regions")
    assert changed(before, tables(web_server)) == {}


# ------------------------------------------------------------------------------ ids and queries


@pytest.mark.parametrize("text", SQL_ISH_IDS)
def test_sql_ish_session_ids_find_nothing(
    web_server: Server, client: httpx.Client, finished: str, text: str
) -> None:
    before = tables(web_server)
    part = path_part(text)
    for path in ("", "/summary", "/map.svg", "/stream"):
        reply = client.get(f"/api/sessions/{part}{path}")
        assert reply.status_code == 404, (path, reply.text[:300])
        assert reply.json()["error"].startswith("no session"), reply.text[:300]
        assert finished not in reply.text
    reply = client.post(f"/api/sessions/{part}/events", json={"kind": "stop"})
    assert reply.status_code == 404
    assert client.get(f"/session/{part}").status_code == 404
    assert changed(before, tables(web_server)) == {}


def test_a_session_id_is_matched_whole_never_by_prefix_or_pattern(
    client: httpx.Client, finished: str
) -> None:
    # "_" * 32 would match every id under LIKE; a prefix finds a session in the CLI only.
    for text in ("_" * 32, "%", finished[:8], finished[:31] + "%", finished.upper()):
        assert client.get(f"/api/sessions/{path_part(text)}").status_code == 404, text
    assert client.get(f"/api/sessions/{finished}").status_code == 200


@pytest.mark.parametrize("text", SQL_ISH_IDS)
def test_sql_ish_profile_ids_are_refused_naming_the_field(
    web_server: Server, client: httpx.Client, text: str
) -> None:
    before = tables(web_server)
    part = path_part(text)
    assert_refused(client.get(f"/api/profiles/{part}"), "profile_id")
    reply = client.post(f"/api/profiles/{part}/check-ins", json={"regions": []})
    assert_refused(reply, "profile_id")
    assert_refused(client.get("/api/sessions", params={"profile_id": text}), "profile_id")
    assert_refused(client.get("/api/sessions", params={"limit": text}), "limit")
    assert_refused(client.post("/api/sessions", json={"profile_id": text}), "profile_id")
    assert_refused(client.get("/", params={"profile": text}), "profile")
    assert client.get(f"/profiles/{part}").status_code == 404
    assert changed(before, tables(web_server)) == {}


@pytest.mark.parametrize("number", TOO_BIG_INTEGERS)
def test_ids_too_big_for_any_database_column_are_simply_not_found(
    web_server: Server, client: httpx.Client, number: int
) -> None:
    # A regression: SQLite's driver raised OverflowError (a 500) past 64 bits, and PostgreSQL
    # said "integer out of range" (a 409) past 32 bits.
    profile = client.post("/api/profiles", json={"name": f"id {number}"}).json()
    before = tables(web_server)
    reply = client.get(f"/api/profiles/{number}")
    assert (reply.status_code, reply.json()) == (404, {"error": f"no profile {number}"})
    reply = client.post(f"/api/profiles/{number}/check-ins", json={"regions": []})
    assert reply.status_code == 404
    reply = client.post("/api/sessions", json={"profile_id": number, "minutes": 5})
    assert_refused(reply, "profile_id", 404)
    reply = client.post("/api/plans", json={"profile_id": number})
    assert_refused(reply, "profile_id", 404)
    assert client.get("/api/sessions", params={"profile_id": number}).json() == []
    assert client.get("/", params={"profile": number}).status_code == 404
    page = client.post("/session", data={"profile_id": str(number), "minutes": "5"})
    assert page.status_code == 422 and "no profile" in page.text
    assert changed(before, tables(web_server)) == {}
    assert client.get(f"/api/profiles/{profile['id']}").json()["name"] == f"id {number}"


@pytest.mark.parametrize("limit", ["0", "-1", "501", str(2**64), "1e3", "1; DROP TABLE sessions"])
def test_a_bad_limit_is_refused_naming_it(client: httpx.Client, limit: str) -> None:
    assert_refused(client.get("/api/sessions", params={"limit": limit}), "limit")


# ------------------------------------------------------------------------------ oversized


def test_a_body_of_exactly_the_cap_is_read_and_one_byte_more_is_refused(
    web_server: Server, client: httpx.Client
) -> None:
    body = b'{"minutes": 10}'
    padded = body + b" " * (BODY_LIMIT - len(body))  # JSON allows the trailing spaces
    headers = {"content-type": "application/json"}
    reply = client.post("/api/plans", content=padded, headers=headers)
    assert reply.status_code == 200, reply.text[:300]
    before = tables(web_server)
    reply = client.post("/api/sessions", content=padded + b" ", headers=headers)
    assert (reply.status_code, reply.json()) == (413, {"error": CLEAR_413, "field": "body"})
    assert changed(before, tables(web_server)) == {}


def test_the_largest_real_start_form_is_well_under_the_cap(client: httpx.Client) -> None:
    atlas = default_atlas()
    muscles = [region.id for region in atlas.regions if region.tissue is Tissue.MUSCLE]
    # Every box ticked, every question answered yes, the longest name in four-byte characters.
    form = [("profile_name", "💆" * 100), ("minutes", "90"), ("pressure", "2")]
    form += [("activities", name) for name in activities()]
    form += [("trouble_spots", name) for name in muscles]
    form += [("sore_spots", name) for name in muscles]
    form += [("yes", question.id) for question in screening_questions()]
    for region in muscles[:3]:
        form += [("local_region", region), ("local_kind", "bruise")]
    body = urlencode(form).encode()
    assert len(body) * 10 < BODY_LIMIT  # a wide margin
    reply = client.post(
        "/plan", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert reply.status_code == 200, reply.text[:500]


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/api/sessions", "application/json", b'{"profile_name": "' + b"x" * MEGABYTES_5 + b'"}'),
        ("/api/profiles", "application/json", b'{"name": "' + "💆".encode() * 2_000_000 + b'"}'),
        (
            "/api/profiles/1/check-ins",
            "application/json",
            b'{"regions": [' + b'"neck-left",' * 100_000 + b'"neck-left"]}',
        ),
        ("/session", "application/x-www-form-urlencoded", b"profile_name=" + b"x" * MEGABYTES_5),
        (
            "/session",
            "application/x-www-form-urlencoded",
            b"minutes=5" + b"&trouble_spots=neck-left" * 100_000,
        ),
        ("/api/plans", "application/json", b"[" * 1_000_000 + b"]" * 1_000_000),
    ],
    ids=["5MB-json", "emoji-name", "100k-regions", "5MB-form", "100k-form-regions", "deep-json"],
)
def test_a_body_over_the_cap_is_refused_before_it_is_read(
    web_server: Server, client: httpx.Client, path: str, content_type: str, body: bytes
) -> None:
    before = tables(web_server)
    reply = client.post(path, content=body, headers={"content-type": content_type})
    assert (reply.status_code, reply.json()) == (413, {"error": CLEAR_413, "field": "body"})
    assert reply.headers["content-security-policy"]  # the usual headers, like any reply
    assert changed(before, tables(web_server)) == {}
    still_serving(web_server)


def test_a_chunked_body_is_counted_as_it_comes_and_refused_past_the_cap(
    web_server: Server, client: httpx.Client
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(100):
            yield b"x" * 10_000
        yield b'"}'

    before = tables(web_server)
    # A generator has no length: httpx sends it chunked, without Content-Length.
    reply = client.post(
        "/api/profiles", content=chunks(), headers={"content-type": "application/json"}
    )
    assert reply.request.headers.get("transfer-encoding") == "chunked"
    assert (reply.status_code, reply.json()) == (413, {"error": CLEAR_413, "field": "body"})
    small = client.post(
        "/api/profiles",
        content=iter([b'{"name": ', b'"chunked but small"}']),
        headers={"content-type": "application/json"},
    )
    assert small.status_code == 201
    diff = changed(before, tables(web_server))
    assert list(diff) == ["profiles"] and diff["profiles"]["gone"] == [], diff
    (added,) = diff["profiles"]["added"]
    assert "chunked but small" in added
    still_serving(web_server)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 30_000 + b"]" * 30_000,
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        b'{"activities": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
    ],
    ids=["array", "object", "in-a-field"],
)
def test_json_nested_too_deep_to_parse_is_a_clear_400(
    web_server: Server, client: httpx.Client, body: bytes
) -> None:
    assert len(body) <= BODY_LIMIT  # under the cap: the parser itself gives up
    before = tables(web_server)
    reply = client.post("/api/sessions", content=body, headers={"content-type": "application/json"})
    problem = assert_refused(reply, "body", 400)
    assert "could not be parsed" in problem["error"]
    assert changed(before, tables(web_server)) == {}
    still_serving(web_server)


def test_a_body_that_is_not_utf8_is_a_clear_400(client: httpx.Client) -> None:
    reply = client.post(
        "/api/profiles",
        content=b'{"name": "\xff\xfe"}',
        headers={"content-type": "application/json"},
    )
    assert_refused(reply, "body", 400)


def test_a_huge_header_or_cookie_is_refused_and_the_server_goes_on(web_server: Server) -> None:
    host = urlsplit(web_server.url).netloc.encode()
    for name in (b"X-Padding", b"Cookie"):
        value = b"backrub_login=" + b"y" * 1_000_000 if name == b"Cookie" else b"y" * 1_000_000
        request = b"GET /api/options HTTP/1.1\r\nHost: " + host + b"\r\n" + name + b": " + value
        reply = raw_exchange(web_server, request + b"\r\n\r\n")
        # The HTTP server refuses it before the app: a plain 400, never a crash.
        assert reply.startswith(b"HTTP/1.1 400 "), reply
    still_serving(web_server)


def test_a_large_junk_cookie_is_ignored(client: httpx.Client) -> None:
    reply = client.get("/api/profiles", headers={"Cookie": f"{LOGIN_COOKIE}={'y' * 12_000}"})
    assert reply.status_code == 200


def test_unknown_paths_and_methods_answer_in_the_error_shape(client: httpx.Client) -> None:
    assert client.get("/api/' OR 1=1 --").json() == {"error": "Not Found"}
    reply = client.put("/api/options", json={})
    assert (reply.status_code, reply.json()) == (405, {"error": "Method Not Allowed"})
    assert reply.headers["allow"] == "GET"


# ------------------------------------------------------------------------------ the store


def test_the_store_finds_no_row_for_an_id_no_column_can_hold(database_url: str) -> None:
    with Store.open(database_url) as store:
        profile = store.create_profile("Ann", {})
        for number in TOO_BIG_INTEGERS:
            with pytest.raises(StoreError, match=f"no profile {number}"):
                store.profile(number)
            with pytest.raises(StoreError, match=f"no profile {number}"):
                store.update_profile(number, {})
            with pytest.raises(StoreError, match=f"no profile {number}"):
                store.start_session({"schema": "backrub.plan"}, profile_id=number)
            with pytest.raises(StoreError, match=f"no account {number}"):
                store.account(number)
            assert store.sessions(profile_id=number) == []
        assert store.profile(profile).name == "Ann"


def test_the_store_refuses_nul_in_text_naming_the_field(database_url: str) -> None:
    with Store.open(database_url) as store:
        for call, field in (
            (lambda: store.create_profile("Ann\x00", {}), "name"),
            (lambda: store.create_account("ann\x00@example.org", "$argon2id$x"), "email"),
            (lambda: store.record_login_failure("email:ann\x00@example.org"), "email"),
            (lambda: store.login_failures("email:\x00", since=datetime.now(UTC)), "email"),
        ):
            with pytest.raises(UnstorableText) as refused:
                call()
            assert refused.value.where == field
        with pytest.raises(StoreError, match="no profile"):
            store.profile("Ann\x00")  # no such name can exist: not even looked up
        assert store.credentials("ann\x00@example.org") is None
        assert store.profiles() == []


# ------------------------------------------------------------------------------ hosted mode


@pytest.mark.parametrize(
    "email",
    ["' OR 1=1 --", "admin'--", "%", "_", "\x00@example.org", "a\x00b@example.org", "💆" * 300],
)
def test_sql_ish_emails_are_refused_at_sign_up_naming_the_field(hosted: Server, email: str) -> None:
    before = tables(hosted)
    with hosted.client(headers={"X-Forwarded-For": new_address()}) as client:
        reply = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
        assert_refused(reply, "email")
        assert LOGIN_COOKIE not in reply.headers.get("set-cookie", "")
    assert changed(before, tables(hosted)) == {}


def test_a_sql_ish_but_well_formed_email_is_stored_verbatim(hosted: Server) -> None:
    email = f"o'brien+{new_email().split('@')[0]}--%_@example.org"
    password = "x'); DROP TABLE accounts; --"
    client = sign_up(hosted, email.upper(), password=password)
    assert client.get("/api/account").json()["email"] == email
    client.close()
    with hosted.client(headers={"X-Forwarded-For": new_address()}) as other:
        reply = other.post("/api/auth/login", json={"email": email, "password": password})
        assert reply.status_code == 200
        assert reply.json()["account"]["email"] == email


def test_a_nul_in_a_password_is_kept_whole(hosted: Server) -> None:
    # The password is never stored, only its hash: a NUL is a character like any other, and
    # what follows it counts (nothing cuts the password short at the NUL).
    email = new_email()
    sign_up(hosted, email, password="correct horse\x00battery").close()
    with hosted.client(headers={"X-Forwarded-For": new_address()}) as client:
        for wrong in ("correct horse", "correct horse\x00other thing"):
            reply = client.post("/api/auth/login", json={"email": email, "password": wrong})
            assert reply.status_code == 401, wrong
        right = {"email": email, "password": "correct horse\x00battery"}
        assert client.post("/api/auth/login", json=right).status_code == 200


@pytest.mark.parametrize(
    ("email", "password", "status", "field"),
    [
        ("' OR 1=1 --", "' OR 1=1 --", 401, "password"),
        ("admin'--@example.org", "anything at all", 401, "password"),
        ("%", "%%%%%%%%%%%", 401, "password"),
        ("a\x00b@example.org", PASSWORD, 401, "password"),  # like any unknown address
        ("x@example.org", "\x00" * 20, 401, "password"),
    ],
)
def test_sql_ish_log_ins_open_nothing(
    hosted: Server, email: str, password: str, status: int, field: str
) -> None:
    victim = sign_up(hosted)  # an account the injection would have to reach
    with database(hosted) as db:
        accounts = db.execute(select(Base.metadata.tables["accounts"])).all()
    with hosted.client(headers={"X-Forwarded-For": new_address()}) as client:
        reply = client.post("/api/auth/login", json={"email": email, "password": password})
        assert_refused(reply, field, status)
        assert LOGIN_COOKIE not in reply.headers.get("set-cookie", "")
        assert client.get("/api/account").status_code == 401
    with database(hosted) as db:
        assert db.execute(select(Base.metadata.tables["accounts"])).all() == accounts
    victim.close()


@pytest.mark.parametrize("page", ["/login", "/signup"])
def test_a_nul_in_the_email_comes_back_on_the_form(hosted: Server, page: str) -> None:
    before = tables(hosted)
    with hosted.client(headers={"X-Forwarded-For": new_address()}) as client:
        token = form_token(client, page)
        fields = {"email": "a\x00b@example.org", "password": PASSWORD, "csrf_token": token}
        reply = client.post(page, data={**fields, "password_again": PASSWORD})
    assert reply.status_code in (401, 422)
    assert reply.headers["content-type"].startswith("text/html")
    assert 'aria-invalid="true"' in reply.text  # the message sits next to its field
    assert changed(before, tables(hosted)) == {}


def test_logged_in_sql_ish_names_stay_in_their_account(hosted: Server) -> None:
    ann, bob = sign_up(hosted), sign_up(hosted)
    for name in ["' OR account_id IS NOT NULL --", "%", "_", *SQL_ISH_NAMES[:3]]:
        reply = ann.post("/api/profiles", json={"name": name})
        assert reply.status_code == 201 and reply.json()["name"] == name, reply.text
    assert bob.get("/api/profiles").json() == []
    assert bob.post("/api/profiles", json={"name": "%"}).status_code == 201  # not "taken"
    assert_refused(ann.post("/api/profiles", json={"name": "\x00"}), "name")
    ann.close()
    bob.close()


def test_a_huge_body_is_refused_before_the_log_in_gate_reads_it(hosted: Server) -> None:
    client = sign_up(hosted)
    token = client.headers.pop(CSRF_HEADER)  # so the gate looks for it in the form
    form = {"csrf_token": token, "profile_name": "x" * MEGABYTES_5, "minutes": "5"}
    before = tables(hosted)
    reply = client.post("/session", data=form)
    assert (reply.status_code, reply.json()) == (413, {"error": CLEAR_413, "field": "body"})

    def chunks() -> Iterator[bytes]:
        yield f"csrf_token={token}&minutes=5&profile_name=".encode()
        for _ in range(100):
            yield b"x" * 10_000

    headers = {"content-type": "application/x-www-form-urlencoded"}
    reply = client.post("/session", content=chunks(), headers=headers)
    assert (reply.status_code, reply.json()) == (413, {"error": CLEAR_413, "field": "body"})
    with hosted.client() as anonymous:
        reply = anonymous.post("/api/profiles", json={"name": "x" * MEGABYTES_5})
        assert reply.status_code == 413
    assert changed(before, tables(hosted)) == {}
    # The same form, of a fair size, still goes through with its token.
    small = client.post("/session", data={**form, "profile_name": "fair size"})
    assert small.status_code == 303
    client.close()
    still_serving(hosted)


def test_a_huge_login_cookie_is_not_a_log_in(hosted: Server) -> None:
    with hosted.client() as client:
        reply = client.get("/api/profiles", headers={"Cookie": f"{LOGIN_COOKIE}={'y' * 12_000}"})
        assert reply.status_code == 401
    still_serving(hosted)
