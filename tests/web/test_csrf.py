"""The live page sends the server's CSRF token with every press, and after a restart of the
local server (a new token) it takes the new one and the press still goes through."""

from __future__ import annotations

from tests.web.conftest import AssertLocal, PageAt, requests_of
from tests.webserver import Server, start_session

PHONE = 360
META = 'meta[name="csrf-token"]'


def test_a_press_with_a_stale_token_fetches_the_new_one_and_goes_through(
    web_server: Server, page_at: PageAt, assert_local: AssertLocal
) -> None:
    with web_server.client() as client:
        session_id = start_session(client)["id"]
        token = client.get("/api/token").json()["csrf_token"]
    page = page_at(PHONE, base_url=web_server.url)
    page.goto(f"/session/{session_id}")
    page.wait_for_selector("#live[data-live]", state="attached")
    assert page.get_attribute(META, "content") == token
    # As if the server had restarted since the page was loaded: the page's token is old.
    page.evaluate(f"document.querySelector('{META}').content = 'a-token-from-before'")
    presses: list[int] = []
    page.on(
        "response",
        lambda reply: presses.append(reply.status) if reply.url.endswith("/events") else None,
    )
    page.click('.dock [data-event="more"]')
    page.wait_for_selector("#ack:has-text('Sent: More pressure')")
    assert presses == [403, 200]  # refused for the old token, then sent with the new one
    assert page.get_attribute(META, "content") == token
    assert any(url.endswith("/api/token") for url in requests_of(page))
    assert_local(page)
