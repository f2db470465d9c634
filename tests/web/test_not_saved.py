"""The live page while the server cannot save (its database is away): presses wait, then go.

A press answered 503 is not lost: the page says it was not saved, keeps it, and sends it again
after the Retry-After the server gave; a press made meanwhile waits behind it, so the receiver's
feedback reaches the session whole and in order.
"""

from __future__ import annotations

import json

from playwright.sync_api import Route
from sqlalchemy import create_engine, text

from tests.web.conftest import PageAt
from tests.webserver import Server, module_server, start_session

PHONE = 360
REFUSED = {"error": "not saved: the database is unavailable for a moment; try again"}


server = module_server("not-saved", speed=20.0)


def stored_feedback(server: Server, session: str) -> list[str]:
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as connection:
            query = "SELECT kind FROM events WHERE session_id = :s AND kind <> 'tick' ORDER BY seq"
            return [kind for (kind,) in connection.execute(text(query), {"s": session})]
    finally:
        engine.dispose()


def test_a_press_not_saved_is_kept_and_sent_again_after_retry_after(
    server: Server, page_at: PageAt
) -> None:
    with server.client() as client:
        session = start_session(client)["id"]
    page = page_at(PHONE, base_url=server.url)
    page.goto(f"/session/{session}")
    page.wait_for_selector("#live[data-live]", state="attached")

    # The server's database goes away for the first two tries (the press, then its first
    # retry), as a PostgreSQL restart would; it answers as the server does then.
    refusals = {"left": 2}

    def database_away(route: Route) -> None:
        if refusals["left"] > 0:
            refusals["left"] -= 1
            route.fulfill(
                status=503,
                headers={"Retry-After": "1", "Cache-Control": "no-store"},
                content_type="application/json",
                body=json.dumps({**REFUSED, "retry_after": 1}),
            )
        else:
            route.continue_()

    page.route("**/api/sessions/*/events", database_away)
    page.click('button[data-event="more"]')
    page.wait_for_selector("#errors:has-text('Not saved, try again')")
    page.click('button[data-event="less"]')  # pressed while the first waits: queued behind it
    assert "2 presses are kept" in page.inner_text("#errors")
    assert stored_feedback(server, session) == []

    page.wait_for_selector("#ack:has-text('Sent now: Less pressure')", timeout=15_000)
    assert stored_feedback(server, session) == ["more", "less"]
    assert page.inner_text("#errors") == ""
