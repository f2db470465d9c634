"""Schemathesis against the OpenAPI document a running server publishes (`/openapi.json`).

Every operation gets data its schema allows and data it does not (wrong types, missing and extra
fields, bytes that are not JSON), on a local server with its CSRF token and on a hosted one
logged in with a cookie and the log-in's CSRF token (test_web_schemathesis_hosted.py), each
on SQLite and on PostgreSQL. Some cases name ids that exist (a receiver, a running session, a
stopped one), so the routes behind the validation run too. No answer may be a server error,
each must fit the document's own description of it (media type, body schema, headers), and data
that breaks the schema must be refused. The server answers after it all.

Every refusal is in the document too (400, 401, 403, 404, 409, 413, 422, 429, all with the app's
`{"error", "field", "details"}` body), so each status and error body is checked against it.
One check is left out: `positive_data_acceptance` (ids and names are plain strings in the
schema, but only known ones are accepted: an unknown activity or region is a 422, an unknown
receiver a 404).

The runs are derandomized (the same cases every time) and small, so they stay quick and the same
in CI; the plain regressions for what they found are in test_web_hostile_input.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backrub.web.auth import CSRF_HEADER
from tests.hosted_helpers import new_address
from tests.webserver import Server

EXAMPLES = 20  # cases per operation and generation mode
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same cases on every run and machine
    database=None,  # nothing remembered between runs, for the same reason
    deadline=None,  # a request's time is not under test
    suppress_health_check=list(HealthCheck),  # slow generation of big bodies is expected here
)
CHECKS = [
    schemathesis.checks.not_a_server_error,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    status_code_conformance,
    negative_data_rejection,
]
REQUEST_TIMEOUT = 30.0  # seconds; a hung request fails the run instead of hanging it
# These take no log-in; sent with one, a sign-up or log-in would replace it, a log-out end it.
ANONYMOUS = frozenset({"/api/auth/signup", "/api/auth/login", "/api/auth/logout"})


@dataclass(frozen=True)
class Known:
    """Ids that exist on the server, for some cases to name."""

    profile: int
    running: str
    stopped: str


def _make_known(client: httpx.Client) -> Known:
    profile = client.post("/api/profiles", json={"name": "Fuzzed receiver"})
    assert profile.status_code == 201, profile.text
    sessions = []
    for _ in range(2):
        reply = client.post(
            "/api/sessions", json={"minutes": 10, "profile_id": profile.json()["id"]}
        )
        assert reply.status_code == 201, reply.text
        sessions.append(reply.json()["id"])
    stop = client.post(f"/api/sessions/{sessions[1]}/events", json={"kind": "stop"})
    assert stop.status_code == 200, stop.text
    return Known(profile.json()["id"], sessions[0], sessions[1])


def _real_ids(path: str, known: Known) -> list[dict[str, Any]]:
    """Path parameters naming things that exist. The live stream only of a stopped session: a
    running one's never ends, and the case would wait for it."""
    if "{session_id}" in path:
        if path.endswith("/stream"):
            return [{"session_id": known.stopped}]
        return [{"session_id": known.running}, {"session_id": known.stopped}]
    if "{profile_id}" in path:
        return [{"profile_id": known.profile}]
    return []


def _fuzz(
    server: Server,
    known: Known,
    *,
    cookies: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Counter[int]]:
    """Run every operation's cases, both generation modes, with the checks; the statuses seen."""
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json", timeout=REQUEST_TIMEOUT)
    seen: dict[str, Counter[int]] = {}
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the OpenAPI document is broken: {result.err()}"
        operation = result.ok()
        anonymous = operation.path in ANONYMOUS
        sent_headers = {"X-Forwarded-For": new_address(), **(headers or {})}
        if anonymous:
            sent_headers.pop(CSRF_HEADER, None)
        call = Call(server.url, sent_headers, None if anonymous else cookies)
        statuses = seen.setdefault(operation.label, Counter())
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode is GenerationMode.NEGATIVE and _nothing_invalid(operation):
                continue
            cases = operation.as_strategy(generation_mode=mode)
            if mode is GenerationMode.POSITIVE or operation.body:
                real = [
                    operation.as_strategy(generation_mode=mode, path_parameters=ids)
                    for ids in _real_ids(operation.path, known)
                ]
                cases = st.one_of(cases, *real)
            try:
                _run(cases, call, statuses)
            except Unsatisfiable:
                # Schemathesis cannot send a path segment that is not a string: an operation
                # whose only input is a string id has no invalid data to send.
                assert mode is GenerationMode.NEGATIVE, operation.label
                assert not operation.body and not operation.query, operation.label
    return seen


def _nothing_invalid(operation: APIOperation) -> bool:
    """Whether no request can break the operation's schema: it takes no body, query, header or
    cookie, and each path parameter is any string (a path segment always is one). Asked for
    invalid data, Hypothesis would draw a thousand times before it gave up (Unsatisfiable)."""
    if operation.body or operation.query or operation.headers or operation.cookies:
        return False
    return all(
        {key: value for key, value in parameter.definition["schema"].items() if key != "title"}
        == {"type": "string"}
        for parameter in operation.path_parameters
    )


@dataclass(frozen=True)
class Call:
    """How each case is sent: where, with which headers and cookies."""

    base_url: str
    headers: dict[str, str]
    cookies: dict[str, str] | None


def _run(cases: st.SearchStrategy[Case], call: Call, statuses: Counter[int]) -> None:
    @SETTINGS
    @given(case=cases)
    def run(case: Case) -> None:
        response = case.call(
            base_url=call.base_url,
            headers=call.headers,
            cookies=call.cookies,
            timeout=REQUEST_TIMEOUT,
        )
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=call.headers)

    run()


def _still_serving(server: Server) -> None:
    assert server.process.poll() is None, server.output()
    with server.client() as client:
        assert client.get("/openapi.json").status_code == 200


# ------------------------------------------------------------------------------ local mode


def test_local_api_gives_no_server_error_for_any_generated_request(web_server: Server) -> None:
    with web_server.client() as client:
        known = _make_known(client)
        document = client.get("/openapi.json").json()
        csrf = {CSRF_HEADER: client.get("/api/token").json()["csrf_token"]}
    seen = _fuzz(web_server, known, headers=csrf)

    assert set(seen) == {
        f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item
    }
    # The cases reached the routes themselves, not only their validation: each route that
    # names a thing answered for a real one at least once.
    for label in ("GET /api/profiles/{profile_id}", "GET /api/sessions/{session_id}/summary"):
        assert seen[label][200] > 0, (label, seen[label])
    # The CSRF token was in force: no change was refused for the want of it.
    assert not any(statuses[403] for statuses in seen.values()), seen
    _still_serving(web_server)
