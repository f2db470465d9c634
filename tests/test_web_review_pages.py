"""Looking back: the summary, history, profile (with the next-day check-in) and printable plan.

Sessions are driven for real through the JSON API of a running `backrub serve` (clock 20x fast);
the pages are then read as a browser gets them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest

from backrub.method.routine import built_in_routine
from tests.webserver import Server, start_server

KNOT_REGION = "upper-trapezius-left"
KNOT_NAME = "Top ridge of the trapezius (shrug muscle) (left)"
BRUISED = "latissimus-right"
BRUISED_NAME = "Latissimus dorsi (twists and side-bends the trunk) (right)"


@dataclass(frozen=True)
class Driven:
    id: str
    profile_id: int


def text_of(html: str) -> str:
    """What a person reads: tags dropped, entities decoded, white space collapsed."""
    inline = re.sub(r"</?(?:a|strong|span|time|em|b)\b[^>]*>", "", html)
    without_tags = re.sub(r"<[^>]+>", " ", inline)
    return re.sub(r"\s+", " ", unescape(without_tags)).strip()


def state(client: httpx.Client, session_id: str) -> dict[str, Any]:
    reply = client.get(f"/api/sessions/{session_id}")
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def send(client: httpx.Client, session_id: str, **event: Any) -> dict[str, Any]:
    reply = client.post(f"/api/sessions/{session_id}/events", json=event)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def start(client: httpx.Client, **body: Any) -> str:
    reply = client.post("/api/sessions", json=body)
    assert reply.status_code == 201, reply.text
    session_id: str = reply.json()["id"]
    return session_id


def profile_of(client: httpx.Client, session_id: str) -> int:
    summary = client.get(f"/api/sessions/{session_id}/summary").json()
    profile_id: int = summary["session"]["profile_id"]
    return profile_id


@pytest.fixture
def client(web_server: Server) -> Iterator[httpx.Client]:
    with web_server.client() as http:
        yield http


@pytest.fixture(scope="module", autouse=True)
def finishing(web_server: Server) -> str:
    """A 5-minute session left to run out (15 s at 20x) while the other tests go on."""
    with web_server.client() as http:
        return start(http, minutes=5, profile_name="Alex")


@pytest.fixture(scope="module")
def sam(web_server: Server) -> Driven:
    """Sam's session: a bruise left out, the planned knot released, pain twice, then stop."""
    with web_server.client() as http:
        session_id = start(
            http,
            minutes=10,
            profile_name="Sam",
            trouble_spots=[KNOT_REGION],
            local=[f"{BRUISED}:bruise"],
        )
        now = state(http, session_id)
        deadline = time.monotonic() + 30
        while now["step"]["knot_rung"] is None:
            assert time.monotonic() < deadline, "the planned knot never came"
            assert now["status"] == "running" and now["step"]["phase"] != "closing", now
            if now["step"]["phase"] in ("opening", "neck"):
                now = send(http, session_id, kind="skip")
            else:
                time.sleep(0.05)
                now = state(http, session_id)
        assert KNOT_REGION in now["step"]["regions"]
        send(http, session_id, kind="released")
        send(http, session_id, kind="pain")
        send(http, session_id, kind="pain")
        assert send(http, session_id, kind="stop")["status"] == "stopped"
        return Driven(session_id, profile_of(http, session_id))


# ------------------------------------------------------------------------------ summary


def test_the_summary_shows_where_how_long_and_how_firm(client: httpx.Client, sam: Driven) -> None:
    reply = client.get(f"/session/{sam.id}/summary")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    html, text = reply.text, text_of(reply.text)
    assert re.search(r'<link rel="stylesheet" href="/static/review\.css\?v=[^"]+">', html)
    # The heatmap, with a text equivalent in the tables.
    assert re.search(r'<div class="map heat-map" role="img" aria-label="[^"]+"><svg', html)
    heat = re.search(rf'data-region="{KNOT_REGION}" data-heat="([0-9.]+)"', html)
    assert heat and float(heat.group(1)) > 0  # worked there, so coloured
    assert "Time per place" in text
    assert f'<tr data-region="{KNOT_REGION}"><th scope="row">' in html
    assert "Left and right" in text and 'id="sides-verdict"' in html
    assert "Stopped early" in text


def test_the_summary_names_the_knot_and_what_was_left_out(
    client: httpx.Client, sam: Driven
) -> None:
    text = text_of(client.get(f"/session/{sam.id}/summary").text)
    assert f"{KNOT_NAME}: Released. It let go." in text
    assert f"{BRUISED_NAME}: Bruise" in text  # left out by screening, with the reason
    assert "pain reported twice" in text  # left out during the session
    assert "was too much today: go lighter there next time" in text  # a note for next time
    assert f"Knots were found at: {KNOT_NAME}" in text


def test_the_summary_looks_after_the_giver_and_offers_to_swap(
    client: httpx.Client, sam: Driven
) -> None:
    html = client.get(f"/session/{sam.id}/summary").text
    text = text_of(html)
    classic = built_in_routine("classic")
    for key in ("water", "cold-water", "swap-roles"):
        cue = classic.cue(key)
        assert cue is not None
        assert cue.text in text  # the routine's own words (G2, G3, G4)
    assert f'href="/?swap={sam.id}"' in html
    assert f'href="/profiles/{sam.profile_id}"' in html
    assert f'href="/session/{sam.id}/plan"' in html
    swapped = client.get(f"/?swap={sam.id}")
    assert swapped.status_code == 200 and "Swap roles" in swapped.text


def test_a_running_session_says_so_and_links_back_to_it(client: httpx.Client) -> None:
    session_id = start(client, minutes=20)
    try:
        reply = client.get(f"/session/{session_id}/summary")
        assert reply.status_code == 200
        assert "This session is still running." in text_of(reply.text)
        assert f'href="/session/{session_id}"' in reply.text
    finally:
        send(client, session_id, kind="stop")
    after = client.get(f"/session/{session_id}/summary")
    assert "still running" not in after.text
    assert "Stopped early" in text_of(after.text)


# ------------------------------------------------------------------------------ history


def test_history_lists_sessions_newest_first_and_receivers(
    client: httpx.Client, sam: Driven
) -> None:
    reply = client.get("/history")
    assert reply.status_code == 200
    html = reply.text
    row = re.search(rf'<tr id="session-{sam.id}".*?</tr>', html, re.S)
    assert row, "Sam's session is not listed"
    assert f'href="/profiles/{sam.profile_id}">Sam</a>' in row.group(0)
    assert f'href="/session/{sam.id}/summary"' in row.group(0)
    assert f'href="/session/{sam.id}/plan"' in row.group(0)
    assert "10 min" in text_of(row.group(0))
    table = html[html.index('<table class="sessions"') : html.index("</table>")]
    times = re.findall(r'<time datetime="([^"]+)"', table)
    assert len(times) >= 2 and times == sorted(times, reverse=True)
    receivers = html[html.index('id="receivers"') :]
    assert f'<a href="/profiles/{sam.profile_id}">Sam</a>' in receivers


def test_an_empty_history_points_to_the_start(tmp_path: Path, database_url: str) -> None:
    # A fresh database, SQLite then PostgreSQL: nothing given yet.
    server = start_server(tmp_path, env={"BACKRUB_DATABASE_URL": database_url})
    try:
        with server.client() as fresh:
            reply = fresh.get("/history")
    finally:
        server.stop()
    assert reply.status_code == 200
    assert "No back rubs yet" in reply.text
    assert '<a class="button" href="/">Plan a back rub</a>' in reply.text


# ------------------------------------------------------------------------------ profile


def test_the_profile_shows_knots_over_time(client: httpx.Client, sam: Driven) -> None:
    reply = client.get(f"/profiles/{sam.profile_id}")
    assert reply.status_code == 200
    html, text = reply.text, text_of(reply.text)
    assert "<h1>Sam</h1>" in html
    assert re.search(r'<div class="map heat-map" role="img" aria-label="[^"]+"><svg', html)
    assert f'data-region="{KNOT_REGION}" data-heat="1.00"' in html
    found = client.get(f"/api/profiles/{sam.profile_id}").json()["knots_over_time"]["knots"]
    day = next(k["date"] for k in found if k["session"] == sam.id)
    assert f'<a href="/session/{sam.id}/summary"><time datetime="{day}">' in html
    assert f"{KNOT_NAME}: 1 time" in text
    assert f'href="/?profile={sam.profile_id}"' in html  # plan the next session
    assert f'id="session-{sam.id}"' in html  # past sessions


def test_a_check_in_is_saved_and_makes_the_next_plan_lighter(
    client: httpx.Client, sam: Driven
) -> None:
    sore = ["neck-left", "middle-trapezius-right"]
    reply = client.post(f"/profiles/{sam.profile_id}/check-in", data={"regions": sore})
    assert reply.status_code == 303
    assert reply.headers["location"] == f"/profiles/{sam.profile_id}?checked_in=1"
    page = client.get(reply.headers["location"])
    assert "Check-in saved. The next plan will be one level lighter on: Back of the neck" in (
        text_of(page.text)
    )
    assert client.get(f"/api/profiles/{sam.profile_id}").json()["sore_spots"] == sore
    start_page = client.get(f"/?profile={sam.profile_id}").text
    for region in sore:
        assert f'name="sore_spots" value="{region}" checked' in start_page
    plan = client.post("/api/plans", json={"minutes": 20, "sore_spots": sore}).json()["plan"]
    assert any(note.startswith("One level lighter on") for note in plan["notes"])


@pytest.mark.parametrize(
    ("region", "message"),
    [("spine", "Spine is never pressed; pick a muscle"), ("elbow", "unknown region 'elbow'")],
)
def test_a_bad_check_in_is_refused_next_to_the_field(
    client: httpx.Client, sam: Driven, region: str, message: str
) -> None:
    before = client.get(f"/api/profiles/{sam.profile_id}").json()["check_ins"]
    reply = client.post(
        f"/profiles/{sam.profile_id}/check-in", data={"regions": ["neck-right", region]}
    )
    assert reply.status_code == 422
    html = reply.text
    error = f'<p class="error" id="regions-error" role="alert">{message}</p>'
    assert error in html.replace("&#39;", "'")
    fieldset = html[html.index("<legend>Any soreness today? Where?</legend>") :]
    assert fieldset.index('id="regions-error"') < fieldset.index('name="regions"')
    assert 'value="neck-right" checked' in html  # what was ticked stays ticked
    assert "Nothing was saved." in text_of(html)
    assert client.get(f"/api/profiles/{sam.profile_id}").json()["check_ins"] == before


# ------------------------------------------------------------------------------ printable plan


def test_the_printable_plan_has_the_steps_and_a_print_stylesheet(
    client: httpx.Client, sam: Driven
) -> None:
    reply = client.get(f"/session/{sam.id}/plan")
    assert reply.status_code == 200
    html = reply.text
    steps = int(re.search(r"(\d+) steps</h2>", html).group(1))  # type: ignore[union-attr]
    # Every step is on paper once, with its picture and how-to (a step done alike on the
    # other side right after shares its row: "4-5").
    rows = re.findall(r'<li class="printed-step">(.*?)</li>', html, re.S)
    numbered: list[int] = []
    for row in rows:
        found = re.search(r'<span class="step-number">(\d+)(?:-(\d+))?</span>', row)
        assert found is not None, row
        first, last = int(found.group(1)), int(found.group(2) or found.group(1))
        numbered += range(first, last + 1)
        assert re.search(
            r'<img class="step-picture" src="/api/techniques/[a-z-]+/[a-z-]+\.svg', row
        )
        assert '<p class="step-how">' in row
    assert numbered == list(range(1, steps + 1))
    # The set-up comes first: the chair, how to sit, warm hands, the places never pressed.
    setup = html[html.index('id="setup-heading"') : html.index('id="plan-heading"')]
    for words in ("The chair", "How they sit", "Warm hands", "Never pressed"):
        assert words in setup, words
    assert '<button type="button" data-print id="print">' in html
    assert re.search(r'<script type="module" src="/static/print\.js\?v=[^"]+"></script>', html)
    assert re.search(r'<link rel="stylesheet" href="/static/review\.css\?v=[^"]+">', html)
    css = client.get("/static/review.css").text
    printing = css[css.index("@media print") :]
    assert "size: A4" in printing
    assert "break-inside: avoid" in printing
    assert "button, .button, [data-print]" in printing


# ------------------------------------------------------------------------------ unknown ids


@pytest.mark.parametrize(
    "path",
    [
        "/session/" + "0" * 32 + "/summary",
        "/session/" + "0" * 32 + "/plan",
        "/session/" + "A" * 32 + "/summary",
        "/session/not-a-session/summary",
        "/session/not-a-session/plan",
        "/profiles/999999",
        "/profiles/0",
        "/profiles/sam",
    ],
)
def test_unknown_ids_get_a_not_found_page(client: httpx.Client, path: str) -> None:
    reply = client.get(path)
    assert reply.status_code == 404
    assert reply.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in reply.text
    assert 'href="/history"' in reply.text


def test_a_mistyped_address_gets_the_page_in_a_browser_and_json_elsewhere(
    client: httpx.Client,
) -> None:
    page = client.get("/histroy", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in page.text
    assert 'href="/"' in page.text
    for path, accept in (("/histroy", "application/json"), ("/api/nothing", "text/html")):
        reply = client.get(path, headers={"Accept": accept})
        assert reply.status_code == 404
        assert reply.headers["content-type"].startswith("application/")
        assert "<h1>" not in reply.text


def test_a_check_in_for_an_unknown_receiver_is_not_found(client: httpx.Client) -> None:
    reply = client.post("/profiles/999999/check-in", data={"regions": ["neck-left"]})
    assert reply.status_code == 404
    assert "<h1>Not found</h1>" in reply.text


# ------------------------------------------------------------------------------ a whole session


def test_a_finished_session_is_summed_up(client: httpx.Client, finishing: str) -> None:
    deadline = time.monotonic() + 60
    while state(client, finishing)["status"] == "running":
        assert time.monotonic() < deadline, "the 5-minute session did not finish"
        time.sleep(0.5)
    text = text_of(client.get(f"/session/{finishing}/summary").text)
    assert "How it went for Alex" in text
    assert "How it ended Finished" in text
    assert "The two sides got about the same time" in text
    assert "No knots were reported." in text
    row = re.search(rf'<tr id="session-{finishing}".*?</tr>', client.get("/history").text, re.S)
    assert row and "Finished" in row.group(0)
