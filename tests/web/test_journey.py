"""A whole short session in a real browser, as a giver would go through it on a phone.

Start (receiver, activity, a trouble spot tapped on the map, minutes, screening), the plan,
the live page (feedback, a knot tapped on the map and worked up the ladder to its release),
stop, the summary, the history and the receiver's page; each page saved as a screenshot at
phone and desktop width, and not one request leaving this machine.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, Response

from tests.web.conftest import AssertLocal, PageAt, Screenshot, open_start_groups
from tests.webserver import Server

SPOT = "middle-trapezius-right"
DESKTOP = 1280
PHONE = 360


def state_of(server: Server, session_id: str) -> dict[str, object]:
    with server.client() as client:
        state: dict[str, object] = client.get(f"/api/sessions/{session_id}").json()
        return state


def newer_than(page: Page, version: str | None) -> None:
    page.wait_for_selector(f"#live:not([data-version='{version}'])", state="attached")


def test_a_whole_short_session_from_start_to_history(
    web_server: Server, page_at: PageAt, screenshot: Screenshot, assert_local: AssertLocal
) -> None:
    page = page_at(PHONE, base_url=web_server.url)

    # Start: who, what they do, where it is tight (tapped on the map), how long, screening.
    page.goto("/")
    open_start_groups(page)
    page.fill("#profile_name", "Alex")
    page.check('input[name="activities"][value="computer-work"]')
    page.click(f'#trouble-map [data-region="{SPOT}"]')
    assert page.is_checked(f'input[name="trouble_spots"][value="{SPOT}"]')
    page.fill("#minutes", "10")
    page.check('input[name="pressure"][value="3"]')
    page.click("text=See the plan")

    # The plan explains the screening outcome and offers to start.
    page.wait_for_selector("#outcome-heading")
    assert page.text_content("#outcome-heading") == "Go"
    assert page.locator("table.plan-steps tbody tr").count() > 5
    page.click("#start-session")
    page.wait_for_url(re.compile(r".*/session/[0-9a-f]{32}$"))
    session_id = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("#live[data-live]", state="attached")
    assert (page.text_content("#cue") or "").strip()
    screenshot(page, "session")

    # Feedback from the receiver: the page confirms each tap.
    page.click('.dock [data-event="more"]')
    page.wait_for_selector("#ack:has-text('Sent: More pressure')")

    # Out of the warm-up and the neck, then "knot here" tapped on the map.
    for _ in range(30):
        if state_of(web_server, session_id)["step"]["phase"] not in ("opening", "neck"):  # type: ignore[index]
            break
        version = page.get_attribute("#live", "data-version")
        page.click("#skip")
        newer_than(page, version)
    page.click("#knot-here")
    page.click(f'#map [data-region="{SPOT}"]')
    page.locator(f'#knot-state[data-region="{SPOT}"]').wait_for()
    page.wait_for_selector(f'#map [data-region="{SPOT}"].highlight')
    first = state_of(web_server, session_id)["step"]["knot_rung"]  # type: ignore[index]

    # Still tight: the next rung of the ladder; then released: aftercare.
    version = page.get_attribute("#live", "data-version")
    page.click('[data-event="still-tight"]')
    # The press is answered once the server has taken it (a newer state alone may be the
    # clock's, pushed before the press arrived).
    page.wait_for_selector("#ack:has-text('Sent: Still tight')")
    newer_than(page, version)
    assert state_of(web_server, session_id)["step"]["knot_rung"] == first + 1  # type: ignore[index, operator]
    page.click('#felt [data-value="6"]')
    version = page.get_attribute("#live", "data-version")
    page.click('[data-event="released"]')
    page.wait_for_selector("#ack:has-text('Sent: Released')")
    newer_than(page, version)
    assert state_of(web_server, session_id)["step"]["technique"] == "mild-rubbing"  # type: ignore[index]
    screenshot(page, "session-knot")

    # Stop (asked first), and the page goes to the summary on its own.
    page.click("#stop")
    page.click("#stop-confirm")
    page.wait_for_url(f"**/session/{session_id}/summary", timeout=15_000)
    summary = page.text_content("main") or ""
    assert "released" in summary.lower()
    assert "Swap roles" in summary
    screenshot(page, "summary")

    # History lists the session; the receiver's page shows the knot on the map.
    loaded(page.goto("/history"), page, "History")
    assert page.locator(f'a[href="/session/{session_id}/summary"]').count() >= 1
    screenshot(page, "history")
    page.click("text=Alex")
    page.wait_for_url(re.compile(r".*/profiles/\d+$"))
    assert "Between the spine and the shoulder blade" in (page.text_content("main") or "")
    screenshot(page, "profile")
    loaded(page.goto(f"/session/{session_id}/plan"), page, "Plan to print")
    screenshot(page, "print")
    assert_local(page)


def test_every_page_at_desktop_width(
    web_server: Server, page_at: PageAt, screenshot: Screenshot, assert_local: AssertLocal
) -> None:
    with web_server.client() as client:
        started = client.post(
            "/api/sessions", json={"minutes": 10, "profile_name": "Jo", "trouble_spots": [SPOT]}
        ).json()
        session_id = started["id"]
        jo = next(p for p in client.get("/api/profiles").json() if p["name"] == "Jo")
    page = page_at(DESKTOP, base_url=web_server.url)
    loaded(page.goto(f"/session/{session_id}"), page, "Live session")
    page.wait_for_selector("#live[data-live]", state="attached")
    screenshot(page, "session")
    page.click("#stop")
    page.click("#stop-confirm")
    page.wait_for_url(f"**/session/{session_id}/summary", timeout=15_000)
    assert page.title() == "How it went · backrub"
    assert (page.text_content("h1") or "").startswith("How it went for Jo")
    screenshot(page, "summary")
    for path, name, title in (
        ("/history", "history", "History"),
        (f"/profiles/{jo['id']}", "profile", "Jo"),
        (f"/session/{session_id}/plan", "print", "Plan to print"),
    ):
        loaded(page.goto(path), page, title)
        screenshot(page, name)
    assert_local(page)


def loaded(reply: Response | None, page: Page, title: str) -> None:
    """The page came (200) and is the one asked for: its title, and a heading to read."""
    assert reply is not None and reply.status == 200, reply and reply.status
    assert page.title() == f"{title} · backrub"
    assert (page.text_content("h1") or "").strip(), "a page without a heading"
