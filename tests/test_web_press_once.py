"""A press sent twice over the API is logged once and answered like the first time.

The live page gives each press an id (`press_id`) and sends it with every try of that press: a
device that never heard the answer (the reply was lost, a 503 after a commit the database kept)
sends it again, and the server answers 200 with the session, logging nothing new. Against a
real `backrub serve`, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from backrub.store import Store
from tests.webserver import Server, start_session

PRESS = "9d1e6b3f0a2c4e5d8f7a6b5c4d3e2f10"


@pytest.fixture
def client(web_server: Server) -> httpx.Client:
    with web_server.client() as http:
        yield http  # type: ignore[misc]


def feedback(server: Server, session: str) -> list[str]:
    """The kinds of the session's logged events, save points left out."""
    with Store.open(server.database_url) as store:
        return [e.kind.value for e in store.events(session) if e.kind.value != "tick"]


def press(client: httpx.Client, session: str, **event: Any) -> httpx.Response:
    return client.post(f"/api/sessions/{session}/events", json=event)


def test_the_same_press_sent_twice_is_logged_once_with_the_same_answer(
    client: httpx.Client, web_server: Server
) -> None:
    session = start_session(client, minutes=30)["id"]
    first = press(client, session, kind="skip", press_id=PRESS)
    again = press(client, session, kind="skip", press_id=PRESS)
    assert first.status_code == again.status_code == 200, again.text
    # A skip taken twice would be two steps on: the repeat is the same step, the same press.
    assert again.json()["step"]["id"] == first.json()["step"]["id"]
    assert again.json()["press"] == first.json()["press"]
    assert again.json()["reaction"] == first.json()["reaction"]
    assert feedback(web_server, session) == ["skip"]
    # The next press, with its own id, goes on as usual.
    following = press(client, session, kind="skip", press_id="the-next-press")
    assert following.status_code == 200
    assert following.json()["step"]["id"] != first.json()["step"]["id"]
    assert feedback(web_server, session) == ["skip", "skip"]


def test_presses_without_an_id_are_each_logged_as_before(
    client: httpx.Client, web_server: Server
) -> None:
    session = start_session(client, minutes=30)["id"]
    for _ in range(2):
        assert press(client, session, kind="more").status_code == 200
    assert feedback(web_server, session) == ["more", "more"]


def test_a_kept_press_sent_again_later_is_logged_once(
    client: httpx.Client, web_server: Server
) -> None:
    session = start_session(client, minutes=30)["id"]
    pressed = time.time() * 1000 - 3000
    first = press(client, session, kind="less", press_id=PRESS, device_time=pressed)
    assert first.status_code == 200, first.text
    time.sleep(0.1)  # the device tries again a moment later: the same press, a later "now"
    again = press(
        client,
        session,
        kind="less",
        press_id=PRESS,
        device_time=pressed,
        device_now=time.time() * 1000,
    )
    assert again.status_code == 200, again.text
    assert feedback(web_server, session) == ["less"]


def test_a_stop_sent_again_is_answered_not_refused(
    client: httpx.Client, web_server: Server
) -> None:
    session = start_session(client, minutes=30)["id"]
    assert press(client, session, kind="stop", press_id=PRESS).status_code == 200
    again = press(client, session, kind="stop", press_id=PRESS)
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "stopped"
    # A new press on the stopped session is refused as before.
    assert press(client, session, kind="stop", press_id="another").status_code == 409
    assert feedback(web_server, session) == ["stop"]


def test_one_id_for_two_different_presses_is_refused(
    client: httpx.Client, web_server: Server
) -> None:
    session = start_session(client, minutes=30)["id"]
    assert press(client, session, kind="more", press_id=PRESS).status_code == 200
    refused = press(client, session, kind="less", press_id=PRESS)
    assert refused.status_code == 409
    assert "press id" in refused.json()["error"]
    assert feedback(web_server, session) == ["more"]


@pytest.mark.parametrize("bad", ["", "a b", "x" * 65, "<script>"])
def test_a_press_id_of_the_wrong_form_is_a_422_naming_it(
    client: httpx.Client, web_server: Server, bad: str
) -> None:
    session = start_session(client, minutes=30)["id"]
    refused = press(client, session, kind="more", press_id=bad)
    assert refused.status_code == 422
    assert refused.json()["field"] == "press_id"
    assert feedback(web_server, session) == []
