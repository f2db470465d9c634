"""The receiver's remote in a real browser at phone size, next to the giver's page on one
session: a press on the remote shows and is said on the giver's page, never on the remote."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from backrub.session import EventKind
from backrub.store import Store
from tests.web.conftest import AssertLocal, PageAt, Screenshot
from tests.web.speech import said, speech_stub, wait_said
from tests.webserver import Server, module_server

WIDTH, HEIGHT = 360, 780
THUMB = 48  # px: the smallest button a thumb hits without looking twice
Theme = Literal["light", "dark"]
OpenRemote = Callable[..., tuple[str, Page]]


server = module_server("remote")


def new_session(server: Server) -> str:
    """A new 30-minute session's id."""
    with server.client() as client:
        reply = client.post("/api/sessions", json={"minutes": 30})
    assert reply.status_code == 201, reply.text
    return str(reply.json()["id"])


@pytest.fixture
def open_remote(server: Server, page_at: PageAt) -> OpenRemote:
    """`open_remote(theme=None)`: a new session and its remote, live, at phone size in that
    colour scheme: (the session's id, the remote's page)."""

    def open_one(theme: Theme | None = None) -> tuple[str, Page]:
        session_id = new_session(server)
        remote = page_at(WIDTH, height=HEIGHT)
        if theme is not None:
            remote.emulate_media(color_scheme=theme)
        remote.goto(f"{server.url}/session/{session_id}/remote")
        remote.wait_for_selector("#remote[data-live]", state="attached")
        return session_id, remote

    return open_one


def opened(page_at: PageAt, url: str, ready: str) -> Page:
    page = page_at(WIDTH, height=HEIGHT)
    page.context.add_init_script(speech_stub())
    page.goto(url)
    page.wait_for_selector(ready, state="attached")
    return page


def violations(page: Page) -> list[str]:
    """axe's violations on the page as it stands: 'rule-id: first offending element'."""
    found: list[dict[str, Any]] = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['nodes'][0]['target']}" for v in found]


def spoken(page: Page) -> list[str]:
    return [utterance["text"] for utterance in said(page)]


def test_more_on_the_remote_is_shown_and_said_on_the_givers_page(
    server: Server, page_at: PageAt, assert_local: AssertLocal, screenshot: Screenshot
) -> None:
    session_id = new_session(server)
    giver = opened(page_at, f"{server.url}/session/{session_id}", "#live[data-live]")
    remote = opened(page_at, f"{server.url}/session/{session_id}/remote", "#remote[data-live]")

    # Every button on the remote is thumb-sized and on the first screens at 360 px.
    for button in remote.locator("#remote button:visible").all():
        box = button.bounding_box()
        assert box is not None
        assert box["width"] >= THUMB and box["height"] >= THUMB, button.inner_text()
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH
    assert remote.locator("#remote-resume").is_hidden()  # running: pause, not resume
    assert violations(remote) == []
    # The giver's page offers the remote: its link and a QR code drawn on the server.
    giver.click("#remote-link summary")
    assert giver.locator("#remote-link svg").is_visible()
    link = giver.locator("#remote-link a")
    assert link.get_attribute("href") == f"{server.url}/session/{session_id}/remote"
    assert violations(giver) == []
    screenshot(remote, "remote")

    remote.get_by_role("button", name="More", exact=True).click()
    receiver = giver.locator("#receiver")
    receiver.wait_for(state="visible")
    assert receiver.inner_text() == "Receiver: a bit more"
    screenshot(giver, "remote-giver", full_page=False)
    wait_said(giver, "Receiver: a bit more")
    assert remote.locator("#remote-ack").inner_text() == "Asked for more."
    # The remote followed the new state, and never spoke: cues, nor the press.
    assert spoken(remote) == []
    assert_local(giver)
    assert_local(remote)


def stored_pains(
    server: Server, session_id: str, kind: EventKind = EventKind.PAIN
) -> list[str | None]:
    """The regions of the 'pain' (or `kind`) events the session logged, in order (None: no
    spot)."""
    store = Store.open(server.database_url)
    try:
        return [e.region for e in store.events(session_id) if e.kind is kind]
    finally:
        store.close()


def test_knot_here_on_the_remote_asks_where_and_the_engine_gets_the_spot(
    server: Server, open_remote: OpenRemote
) -> None:
    session_id, remote = open_remote()

    remote.get_by_role("button", name="Knot here", exact=True).click()
    remote.locator("#remote-pick").wait_for(state="visible")
    assert remote.inner_text("#remote-pick-question") == "Where is the knot?"
    assert stored_pains(server, session_id, EventKind.KNOT) == []
    remote.wait_for_selector("#remote-map svg [data-region]", state="attached")
    spot = "lower-trapezius-right"
    remote.locator(f'#remote-map [data-region="{spot}"]').click(force=True)
    remote.wait_for_selector("#remote-ack:has-text('Said knot here')")
    assert stored_pains(server, session_id, EventKind.KNOT) == [spot]
    assert stored_pains(server, session_id) == []  # a knot, not an ouch

    # Then Ouch asks its own question, and "no spot" sends an ouch.
    remote.get_by_role("button", name="Ouch", exact=True).click()
    assert remote.inner_text("#remote-pick-question") == "Where does it hurt?"
    remote.get_by_role("button", name="Ouch, no spot").click()
    remote.wait_for_selector("#remote-ack:text-is('Said ouch.')")
    assert stored_pains(server, session_id) == [None]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_ouch_on_the_remote_asks_where_and_the_engine_gets_the_spot(
    server: Server, open_remote: OpenRemote, screenshot: Screenshot, theme: Theme
) -> None:
    session_id, remote = open_remote(theme)

    # Ouch sends nothing yet: it asks where, with the map and the list, and "no spot".
    remote.get_by_role("button", name="Ouch", exact=True).click()
    picker = remote.locator("#remote-pick")
    picker.wait_for(state="visible")
    remote.wait_for_selector("#remote-map svg [data-region]", state="attached")
    assert stored_pains(server, session_id) == []
    for button in picker.locator("button:visible").all():
        box = button.bounding_box()
        assert box is not None
        assert box["width"] >= THUMB and box["height"] >= THUMB, button.inner_text()
    assert violations(remote) == []
    screenshot(remote, f"remote-ouch-{theme}", full_page=False)

    # Bone is never pressed: tapping it is answered, and sends nothing.
    remote.locator("#remote-map .tissue-bone[data-region]").first.click(force=True)
    assert "never pressed" in remote.inner_text("#remote-errors")
    # A muscle: sent as the ouch's spot, and the picker closes.
    spot = "middle-trapezius-left"
    remote.locator(f'#remote-map [data-region="{spot}"]').click(force=True)
    remote.wait_for_selector("#remote-ack:has-text('Said ouch')")
    assert picker.is_hidden()
    assert stored_pains(server, session_id) == [spot]

    # "No spot": an ouch without a region (the engine takes the step's).
    remote.get_by_role("button", name="Ouch", exact=True).click()
    remote.get_by_role("button", name="Ouch, no spot").click()
    remote.wait_for_selector("#remote-ack:text-is('Said ouch.')")
    assert stored_pains(server, session_id) == [spot, None]


def words_on_the_map(page: Page) -> list[tuple[str, float]]:
    """Each text shown on the remote's map or around it, with its size in CSS pixels as drawn
    (an SVG text's font size times the map's scale on screen)."""
    found: list[tuple[str, float]] = page.evaluate(
        """() => {
          const shown = (e) => {
            const b = e.getBoundingClientRect();
            return b.width > 0 && b.height > 0;
          };
          // Drawn inside the map's box: what lies outside its view box is not seen.
          const map = document.querySelector('#remote-map svg').getBoundingClientRect();
          const inside = (b) =>
            b.right > map.left && b.left < map.right && b.bottom > map.top && b.top < map.bottom;
          const px = (e) => parseFloat(getComputedStyle(e).fontSize);
          const words = [...document.querySelectorAll('#remote-map svg text')]
            .filter((t) => shown(t) && inside(t.getBoundingClientRect()))
            .map((t) => [t.textContent, px(t) * t.getScreenCTM().a]);
          for (const p of document.querySelectorAll('.remote-map-box p')) {
            if (shown(p)) words.push([p.textContent, px(p)]);
          }
          return words;
        }"""
    )
    return [(text, size) for text, size in found]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_word_on_the_remotes_map_reads_on_a_phone(
    server: Server, page_at: PageAt, theme: str
) -> None:
    """The map is scaled down to the phone's width: its caption and side words, drawn for a
    page, came out under 9 px. Now each is at least 12 px, and still there."""
    with server.client() as client:
        reply = client.post("/api/sessions", json={"minutes": 30})
    assert reply.status_code == 201, reply.text
    remote = page_at(WIDTH, height=HEIGHT)
    remote.emulate_media(color_scheme=theme)
    remote.goto(f"{server.url}/session/{reply.json()['id']}/remote")
    remote.wait_for_selector("#remote[data-live]", state="attached")
    remote.get_by_role("button", name="Ouch", exact=True).click()
    remote.wait_for_selector("#remote-map svg [data-region]", state="attached")

    words = words_on_the_map(remote)
    said = " ".join(text for text, _ in words).lower()
    assert "seen from behind" in said and "left" in said and "right" in said, words
    small = [(text, round(size, 1)) for text, size in words if size < 12]
    assert small == [], "words on the remote's map too small to read on a phone"
    assert violations(remote) == []
