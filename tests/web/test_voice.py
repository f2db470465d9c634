"""The giver's voice (issue 11): the voice (among the page language's voices), its speed and
volume are chosen on the live page and remembered on the device; every cue is said that way.
Only the giver's page speaks: the receiver's remote never does. speechSynthesis is a stub that
records each utterance, with the device's voices made up for the test."""

from __future__ import annotations

import time
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from backrub.web.static_files import STATIC
from tests.web.conftest import PageAt
from tests.web.speech import WAIT_S, said, speech_stub, wait_said
from tests.webserver import Server, module_server, start_session

PHONE = (360, 780)
# Three voices, one not in the page's language.
FAKE_VOICES = speech_stub(
    [
        {
            "name": "Ann",
            "lang": "en-GB",
            "voiceURI": "test:ann",
            "default": True,
            "localService": True,
        },
        {
            "name": "Bob",
            "lang": "en-US",
            "voiceURI": "test:bob",
            "default": False,
            "localService": True,
        },
        {
            "name": "Hans",
            "lang": "de-DE",
            "voiceURI": "test:hans",
            "default": False,
            "localService": True,
        },
    ]
)


server = module_server("voice")


def new_session(server: Server) -> str:
    with server.client() as client:
        return str(start_session(client)["id"])


def send(server: Server, session_id: str, kind: str) -> dict[str, Any]:
    with server.client() as client:
        reply = client.post(f"/api/sessions/{session_id}/events", json={"kind": kind})
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def first_said(page: Page) -> dict[str, Any]:
    """The first cue a page said by itself (it says the step's cue once it has loaded)."""
    deadline = time.monotonic() + WAIT_S
    while not said(page):
        assert time.monotonic() < deadline, "the page said nothing"
        time.sleep(0.05)
    return said(page)[0]


def open_page(page_at: PageAt, server: Server, path: str, ready: str) -> Page:
    page = page_at(PHONE[0], base_url=server.url, height=PHONE[1])
    page.add_init_script(FAKE_VOICES)
    page.goto(path)
    page.wait_for_selector(ready, state="attached")
    return page


def test_the_chosen_voice_speed_and_volume_say_every_cue_and_are_remembered(
    page_at: PageAt, server: Server
) -> None:
    session_id = new_session(server)
    page = open_page(page_at, server, f"/session/{session_id}", "#live[data-live]")
    page.click("#voice-settings summary")
    found = Axe().run(page).response["violations"]
    assert [v["id"] for v in found] == [], "the open voice panel fails axe"
    # Only the page language's voices are offered, after the device's own choice.
    labels = page.eval_on_selector_all("#voice-choice option", "os => os.map((o) => o.text)")
    assert labels == ["The device's own", "Ann (en-GB)", "Bob (en-US)"]
    # Before a choice: the device's own voice, at normal speed and full volume.
    first = first_said(page)
    assert (first["voice"], first["rate"], first["volume"]) == (None, 1, 1)

    page.select_option("#voice-choice", "test:bob")
    page.fill("#voice-rate", "1.3")
    page.fill("#voice-volume", "0.5")
    assert page.text_content('output[for="voice-rate"]') == "1.3\u00d7"  # times
    assert page.text_content('output[for="voice-volume"]') == "50%"
    page.click("#voice-try")
    tried = said(page)[-1]
    assert (tried["voice"], tried["rate"], tried["volume"], tried["lang"]) == (
        "Bob",
        1.3,
        0.5,
        "en-US",
    )
    # A cue caused elsewhere comes by the stream and is said the chosen way.
    cue = send(server, session_id, "more")["cues"][-1]["text"]
    spoken = wait_said(page, cue)
    assert (spoken["voice"], spoken["rate"], spoken["volume"]) == ("Bob", 1.3, 0.5)

    # Remembered on this device: another session's page says its cues the same way.
    page.goto(f"/session/{new_session(server)}")
    page.wait_for_selector("#live[data-live]", state="attached")
    assert page.input_value("#voice-choice") == "test:bob"
    assert page.input_value("#voice-rate") == "1.3"
    assert page.input_value("#voice-volume") == "0.5"
    first_said(page)
    assert {(u["voice"], u["rate"], u["volume"]) for u in said(page)} == {("Bob", 1.3, 0.5)}


def test_a_saved_voice_the_device_no_longer_has_falls_back_to_its_own(
    page_at: PageAt, server: Server
) -> None:
    page = page_at(PHONE[0], base_url=server.url, height=PHONE[1])
    page.add_init_script(FAKE_VOICES)
    page.add_init_script(
        "localStorage.setItem('backrub.voice-settings',"
        " JSON.stringify({voice: 'gone', rate: 9, volume: 'loud'}))"
    )
    page.goto(f"/session/{new_session(server)}")
    page.wait_for_selector("#live[data-live]", state="attached")
    assert page.input_value("#voice-choice") == ""
    first = first_said(page)
    # Out of range or nonsense: the nearest sane value, never a broken utterance.
    assert (first["voice"], first["rate"], first["volume"]) == (None, 1.6, 1)


def test_the_remote_never_speaks(page_at: PageAt, server: Server) -> None:
    session_id = new_session(server)
    remote = open_page(page_at, server, f"/session/{session_id}/remote", "#remote[data-live]")
    giver = open_page(page_at, server, f"/session/{session_id}", "#live[data-live]")
    remote.click('#remote button[data-event="more"]')
    wait_said(giver, "Receiver: a bit more")  # the giver's page says it
    send(server, session_id, "ticklish")  # and cues keep coming on the stream
    time.sleep(0.5)
    assert said(remote) == []
    assert remote.locator("#voice-settings").count() == 0
    assert "speechSynthesis" not in (STATIC / "remote.js").read_text()
