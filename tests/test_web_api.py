"""The JSON API against a real `backrub serve`: plans, sessions, feedback, live stream, errors."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url

from tests.webserver import Server, start_session

KNOT_REGION = "middle-trapezius-right"


def send(client: httpx.Client, session: str, **event: Any) -> dict[str, Any]:
    reply = client.post(f"/api/sessions/{session}/events", json=event)
    assert reply.status_code == 200, reply.text
    state: dict[str, Any] = reply.json()
    return state


def past_warm_up(client: httpx.Client, session: str) -> dict[str, Any]:
    """Skip to the upper back: knots found during the warm-up wait until it is over (O4), and
    the neck is never pressed firmly."""
    state = client.get(f"/api/sessions/{session}").json()
    while state["step"]["phase"] in ("opening", "neck"):
        state = send(client, session, kind="skip")
    return state


@pytest.fixture
def client(web_server: Server) -> httpx.Client:
    with web_server.client() as http:
        yield http  # type: ignore[misc]


def test_the_openapi_document_describes_every_api_route(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/options",
        "/api/atlas",
        "/api/profiles",
        "/api/profiles/{profile_id}/check-ins",
        "/api/plans",
        "/api/sessions",
        "/api/sessions/{session_id}",
        "/api/sessions/{session_id}/events",
        "/api/sessions/{session_id}/stream",
        "/api/sessions/{session_id}/summary",
        "/api/sessions/{session_id}/map.svg",
    ):
        assert path in paths, path
    assert "/" not in paths  # pages are not API


def test_the_openapi_document_describes_every_refusal(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    error_body = document["components"]["schemas"]["ErrorBody"]
    assert error_body["required"] == ["error"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for status in ("400", "401", "403", "404", "409", "413", "422", "429"):
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)


def test_options_list_what_the_start_form_offers(client: httpx.Client) -> None:
    options = client.get("/api/options").json()
    assert {a["id"] for a in options["activities"]} >= {"computer-work", "knitting"}
    assert len(options["questions"]) >= 20
    assert {r["id"] for r in options["routines"]} == {"classic", "neck-and-shoulders"}
    assert [p["level"] for p in options["pressures"]] == [1, 2, 3, 4, 5]


def test_a_plan_preview_saves_nothing(client: httpx.Client) -> None:
    before = len(client.get("/api/sessions").json())
    reply = client.post("/api/plans", json={"minutes": 15, "trouble_spots": [KNOT_REGION]})
    assert reply.status_code == 200
    body = reply.json()
    assert body["screening"]["outcome"] == "go"
    assert body["plan"]["schema"] == "backrub.plan"
    assert any(step["knot"] for step in body["plan"]["steps"])
    assert len(client.get("/api/sessions").json()) == before


def test_screening_changes_are_explained(client: httpx.Client) -> None:
    questions = client.get("/api/options").json()["questions"]
    changing = next(q for q in questions if q["outcome"] == "go-with-changes")
    body = client.post("/api/plans", json={"yes": [changing["id"]]}).json()
    assert body["screening"]["outcome"] == "go-with-changes"
    assert body["screening"]["findings"][0]["reason"]


def test_a_refused_screening_starts_nothing(client: httpx.Client) -> None:
    before = len(client.get("/api/sessions").json())
    reply = client.post("/api/sessions", json={"yes": ["chest-pain-or-breathless"]})
    assert reply.status_code == 409
    body = reply.json()
    assert body["field"] == "yes"
    assert body["screening"]["emergency"] is True
    assert "emergency" in body["screening"]["findings"][0]["reason"]
    assert len(client.get("/api/sessions").json()) == before


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"minutes": 1000}, "minutes", "less than or equal to 90"),
        ({"minutes": "soon"}, "minutes", "valid number"),
        ({"trouble_spots": ["elbow-left"]}, "trouble_spots", "unknown region 'elbow-left'"),
        ({"trouble_spots": ["spine"]}, "trouble_spots", "never pressed"),
        ({"activities": ["juggling"]}, "activities", "unknown activity 'juggling'"),
        ({"yes": ["feeling-great"]}, "yes", "unknown screening question"),
        ({"local": ["spine:rash"]}, "local", "unknown local problem 'rash'"),
        ({"pressure": 9}, "pressure", "less than or equal to 5"),
        ({"routine": "/etc/passwd"}, "routine", "classic"),
        ({"colour": "blue"}, "colour", "Extra inputs"),
        ({"profile_id": 999999}, "profile_id", "no profile 999999"),
    ],
)
def test_a_bad_request_names_its_field(
    client: httpx.Client, body: dict[str, Any], field: str, words: str
) -> None:
    before = len(client.get("/api/sessions").json())
    reply = client.post("/api/sessions", json=body)
    assert 400 <= reply.status_code < 500
    problem = reply.json()
    assert problem["field"] == field, problem
    assert words in problem["error"], problem
    assert len(client.get("/api/sessions").json()) == before


def test_malformed_json_is_a_4xx_naming_the_body(client: httpx.Client) -> None:
    reply = client.post(
        "/api/sessions", content=b'{"minutes": ', headers={"content-type": "application/json"}
    )
    assert reply.status_code == 422
    assert reply.json()["field"] == "body"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"kind": "felt"}, "value"),
        ({"kind": "felt", "value": 11}, "value"),
        ({"kind": "more", "value": 3}, "value"),
        ({"kind": "knot", "region": "nowhere"}, "region"),
        ({"kind": "less", "region": "spine"}, "region"),
        ({"kind": "pain", "region": "nowhere"}, "region"),
        ({"kind": "tick"}, "kind"),
        ({"kind": "tickle"}, "kind"),
    ],
)
def test_a_bad_event_is_refused_and_changes_nothing(
    client: httpx.Client, event: dict[str, Any], field: str
) -> None:
    session = start_session(client)["id"]
    reply = client.post(f"/api/sessions/{session}/events", json=event)
    assert reply.status_code == 422
    assert reply.json()["field"] == field
    events = client.get("/api/sessions", params={"limit": 500}).json()
    assert next(s for s in events if s["id"] == session)["events"] == 0


def test_unknown_sessions_and_profiles_are_404(client: httpx.Client) -> None:
    assert client.get("/api/sessions/0123456789abcdef0123456789abcdef").status_code == 404
    reply = client.post("/api/sessions/nope/events", json={"kind": "more"})
    assert reply.status_code == 404
    assert client.get("/api/profiles/424242").status_code == 404


def test_errors_never_show_where_the_database_is(client: httpx.Client, web_server: Server) -> None:
    replies = [
        client.get("/api/sessions/0123456789abcdef0123456789abcdef"),
        client.get("/api/profiles/424242"),
        client.post("/api/sessions", json={"profile_id": 424242}),
    ]
    url = make_url(web_server.database_url)
    for reply in replies:
        assert str(web_server.database) not in reply.text
        assert str(web_server.database.parent) not in reply.text
        if url.get_backend_name() != "sqlite":
            assert f":{url.port}" not in reply.text
            assert str(url.database) not in reply.text


def test_feedback_changes_the_session(client: httpx.Client) -> None:
    session = start_session(client, pressure=3)["id"]
    state = past_warm_up(client, session)
    before = state["step"]["pressure"]
    after = send(client, session, kind="more")
    assert after["step"]["pressure"] == before + 1
    felt = send(client, session, kind="felt", value=9)
    assert felt["step"]["pressure"] < after["step"]["pressure"]  # 8 or more is too much
    paused = send(client, session, kind="pause")
    assert paused["status"] == "paused"
    assert send(client, session, kind="resume")["status"] == "running"


def test_the_knot_ladder_runs_to_release_and_the_summary_keeps_it(client: httpx.Client) -> None:
    session = start_session(client)["id"]
    past_warm_up(client, session)
    state = send(client, session, kind="knot", region=KNOT_REGION)
    assert state["knot_region"] == KNOT_REGION
    first = state["step"]["knot_rung"]
    assert first is not None
    assert state["step"]["target_band"] == [6, 7]
    climbed = send(client, session, kind="still-tight")
    assert climbed["step"]["knot_rung"] == first + 1
    assert climbed["step"]["contact"] != state["step"]["contact"]
    released = send(client, session, kind="released")
    assert released["step"]["technique"] == "mild-rubbing"  # aftercare (U9)
    send(client, session, kind="stop")
    summary = client.get(f"/api/sessions/{session}/summary").json()
    assert summary["session"]["status"] == "stopped"
    knots = summary["summary"]["knots"]
    assert [(k["region"], k["outcome"]) for k in knots] == [(KNOT_REGION, "released")]


def test_pain_takes_a_region_and_twice_leaves_that_region(client: httpx.Client) -> None:
    session = start_session(client)["id"]
    past_warm_up(client, session)
    spot = "latissimus-left"
    first = send(client, session, kind="pain", region=spot)
    assert first["reaction"]["event"] == "pain"
    again = send(client, session, kind="pain", region=spot)
    assert f"{spot} left out" in again["reaction"]["what"]
    assert again["reaction"]["number"] > first["reaction"]["number"]
    send(client, session, kind="stop")
    summary = client.get(f"/api/sessions/{session}/summary").json()["summary"]
    assert [item["region"] for item in summary["left_out"]] == [spot]


def test_still_tight_with_no_knot_is_answered_with_why_nothing_changed(
    client: httpx.Client,
) -> None:
    session = start_session(client)["id"]
    state = send(client, session, kind="still-tight")
    assert state["reaction"]["event"] == "still-tight"
    assert state["reaction"]["what"].startswith("no knot being worked")


def test_a_finished_session_refuses_events_and_nothing_changes(client: httpx.Client) -> None:
    session = start_session(client)["id"]
    send(client, session, kind="more")
    send(client, session, kind="stop")
    count = client.get(f"/api/sessions/{session}/summary").json()["session"]["events"]
    reply = client.post(f"/api/sessions/{session}/events", json={"kind": "more"})
    assert reply.status_code == 409
    assert "stopped" in reply.json()["error"]
    assert client.get(f"/api/sessions/{session}/summary").json()["session"]["events"] == count


def test_the_stream_carries_another_devices_feedback(
    client: httpx.Client, web_server: Server
) -> None:
    session = start_session(client)["id"]
    past_warm_up(client, session)
    seen: list[dict[str, Any]] = []
    ready = threading.Event()

    def follow() -> None:
        with (
            web_server.client() as other,
            other.stream("GET", f"/api/sessions/{session}/stream") as reply,
        ):
            assert reply.headers["content-type"].startswith("text/event-stream")
            for line in reply.iter_lines():
                if line.startswith("data: "):
                    seen.append(json.loads(line[6:]))
                    ready.set()
                    if seen[-1]["status"] == "paused":
                        return

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    assert ready.wait(10)
    send(client, session, kind="pause")
    follower.join(10)
    assert not follower.is_alive()
    assert seen[-1]["status"] == "paused"
    assert seen[-1]["session"] == session


def test_profiles_and_the_next_day_check_in(client: httpx.Client) -> None:
    made = client.post("/api/profiles", json={"name": "Robin"})
    assert made.status_code == 201
    profile = made.json()["id"]
    again = client.post("/api/profiles", json={"name": "Robin"})
    assert again.status_code == 409
    assert again.json()["field"] == "name"
    bad = client.post(f"/api/profiles/{profile}/check-ins", json={"regions": ["spine"]})
    assert bad.status_code == 422
    assert bad.json()["field"] == "regions"
    assert client.get(f"/api/profiles/{profile}").json()["check_ins"] == []
    good = client.post(
        f"/api/profiles/{profile}/check-ins", json={"regions": ["upper-trapezius-left"]}
    )
    assert good.status_code == 201
    assert good.json()["sore_spots"] == ["upper-trapezius-left"]
    plan = client.post(
        "/api/plans", json={"profile_id": profile, "sore_spots": ["upper-trapezius-left"]}
    ).json()["plan"]
    assert any("One level lighter" in note for note in plan["notes"])
    session = start_session(client, profile_id=profile, sore_spots=["upper-trapezius-left"])["id"]
    # Used once: the check-in tuned this session and does not carry over to the next.
    assert client.get(f"/api/profiles/{profile}").json()["sore_spots"] == []
    sessions = client.get("/api/sessions", params={"profile_id": profile}).json()
    assert [s["id"] for s in sessions] == [session]
    assert sessions[0]["receiver"] == "Robin"


def test_the_live_map_lights_the_current_region(client: httpx.Client) -> None:
    state = start_session(client)["state"]
    reply = client.get(f"/api/sessions/{state['session']}/map.svg")
    assert reply.headers["content-type"].startswith("image/svg+xml")
    # Every region is drawn; the current step's regions are lit, and no other.
    classes = dict(re.findall(r'<g id="region-([a-z0-9-]+)" class="([^"]*)"', reply.text))
    assert set(state["step"]["regions"]) < set(classes)
    lit = {region for region, names in classes.items() if "highlight" in names.split()}
    assert lit == set(state["step"]["regions"])
    assert reply.text.count('class="highlight-ring"') == len(lit)  # each lit one ringed too
    assert "stroke-arrow" in reply.text or "stroke-hold" in reply.text


def test_the_elbow_is_asked_before_it_is_used(client: httpx.Client) -> None:
    session = start_session(client, minutes=20)["id"]
    past_warm_up(client, session)
    state = send(client, session, kind="knot", region=KNOT_REGION)
    for _ in range(4):
        if state["asking_elbow"]:
            break
        state = send(client, session, kind="still-tight")
    assert state["asking_elbow"] is True
    assert state["step"]["contact"] != "elbow"  # not before a yes (U6)
    accepted = send(client, session, kind="accept-elbow")
    assert accepted["asking_elbow"] is False
    assert accepted["step"]["contact"] == "elbow"
    assert accepted["step"]["pressure"] == 4  # about 45 degrees to start (U7)
