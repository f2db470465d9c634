"""The reply to a press is lost on its way back: the server logged the press, the page heard
nothing, kept it and sent it again. The session's log holds the press once, and the page says
it was sent. On SQLite and PostgreSQL (`web_server`)."""

from __future__ import annotations

from playwright.sync_api import Route, expect

from backrub.store import Store
from tests.web.conftest import PageAt
from tests.webserver import Server, start_session

PHONE = 360


def feedback(server: Server, session: str) -> list[str]:
    with Store.open(server.database_url) as store:
        return [e.kind.value for e in store.events(session) if e.kind.value != "tick"]


def test_a_press_whose_reply_was_lost_is_sent_again_and_logged_once(
    web_server: Server, page_at: PageAt
) -> None:
    with web_server.client() as client:
        session = start_session(client, minutes=30)["id"]
    page = page_at(PHONE, base_url=web_server.url)
    page.goto(f"/session/{session}")
    page.wait_for_selector("#live[data-live]", state="attached")

    tries: list[dict[str, object]] = []

    def reply_lost_once(route: Route) -> None:
        tries.append(route.request.post_data_json)
        if len(tries) == 1:
            handled = route.fetch()  # the server takes the press and answers...
            assert handled.status == 200, handled.text()
            route.abort("connectionreset")  # ...but the answer never reaches the page
        else:
            route.continue_()

    page.route("**/api/sessions/*/events", reply_lost_once)
    page.click('.dock button[data-event="more"]')
    # The page heard nothing: it keeps the press and sends it again a few seconds later.
    expect(page.locator("#ack")).to_contain_text("Sent now: More pressure", timeout=20_000)

    assert feedback(web_server, session) == ["more"]
    assert len(tries) == 2
    assert tries[0]["press_id"] == tries[1]["press_id"]
    assert isinstance(tries[0]["press_id"], str) and len(tries[0]["press_id"]) == 32
    expect(page.locator("#errors")).to_have_text("")
