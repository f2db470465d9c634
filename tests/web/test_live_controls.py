"""The live page's step controls and messages (issue 11) in a real browser at 360 x 780: the
countdown before a step change (with a chime and a vibration, switchable and remembered),
"+30 s here", "back one step", "repeat the cue", the message queue (newest first, nothing
vanishes) and the answer to a press shown by the button pressed. axe finds nothing with the
settings and the queue open, in both themes; screenshots at 360 x 780 and 1280 x 800."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.web.conftest import PageAt, Screenshot
from tests.webserver import Server, module_server, start_session

PHONE = (360, 780)
LAPTOP = (1280, 800)
SPEED = 2.0  # session seconds per real second: a 5 s countdown takes 2.5 s to watch

# Stand-ins installed before the page's own scripts: what is said, and each vibration.
STAND_INS = """
window.__spoken = [];
Object.defineProperty(window, "speechSynthesis", {
  configurable: true,
  value: {
    speak(utterance) { window.__spoken.push(utterance.text); },
    cancel() {}, getVoices() { return []; }, speaking: false, pending: false,
  },
});
window.__buzzes = [];
Object.defineProperty(Navigator.prototype, "vibrate", {
  configurable: true,
  value(pattern) { window.__buzzes.push(pattern); return true; },
});
"""

# Every number the countdown shows, in order, while it is on show.
WATCH_COUNTDOWN = """() => {
  window.__counted = [];
  const box = document.querySelector("#countdown");
  const note = () => {
    const number = document.querySelector("#countdown-number").textContent;
    if (!box.hidden && window.__counted.at(-1) !== number) window.__counted.push(number);
  };
  new MutationObserver(note).observe(box, {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
}"""


server = module_server("controls", speed=SPEED)


def new_session(server: Server, minutes: int = 10) -> str:
    with server.client() as client:
        return str(start_session(client, minutes=minutes)["id"])


def state_of(server: Server, session_id: str) -> dict[str, Any]:
    reply = httpx.get(f"{server.url}/api/sessions/{session_id}")
    assert reply.status_code == 200, reply.text
    data: dict[str, Any] = reply.json()
    return data


def send(server: Server, session_id: str, kind: str) -> dict[str, Any]:
    with server.client() as client:
        reply = client.post(f"/api/sessions/{session_id}/events", json={"kind": kind})
    assert reply.status_code == 200, reply.text
    data: dict[str, Any] = reply.json()
    return data


def live_page(
    page_at: PageAt, server: Server, session_id: str, size: tuple[int, int] = PHONE
) -> Page:
    page = page_at(size[0], base_url=server.url, height=size[1])
    page.context.add_init_script(STAND_INS)
    page.goto(f"/session/{session_id}")
    page.wait_for_selector("#live[data-live]", state="attached")
    return page


def until(check: Any, *, timeout: float = 60.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError("timed out waiting")


def violations(page: Page) -> list[str]:
    found: list[dict[str, Any]] = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['nodes'][0]['target']}" for v in found]


def seconds(text: str) -> int:
    minutes, secs = text.strip().split(":")
    return int(minutes) * 60 + int(secs)


def near_each_other(page: Page, first: str, second: str, *, within: float = 120) -> bool:
    a, b = page.locator(first).bounding_box(), page.locator(second).bounding_box()
    assert a is not None and b is not None
    gap_y = max(0.0, max(a["y"], b["y"]) - min(a["y"] + a["height"], b["y"] + b["height"]))
    return gap_y <= within


# ---------------------------------------------------------------- the countdown


def test_the_countdown_shows_5_to_1_then_the_step_changes_with_a_chime_and_a_buzz(
    server: Server, page_at: PageAt, screenshot: Screenshot
) -> None:
    session_id = new_session(server, minutes=5)
    send(server, session_id, "skip")  # on to a 30 s step: the wait is short at this speed
    page = live_page(page_at, server, session_id)
    page.evaluate(WATCH_COUNTDOWN)
    first = page.text_content("#now-label")  # where and which side: each step says it
    until(lambda: page.is_visible("#countdown"))
    screenshot(page, "live-countdown-light", full_page=False)
    assert page.text_content("#countdown-label") == "Next step in"
    until(lambda: page.text_content("#now-label") != first)
    until(lambda: page.is_hidden("#countdown"))
    assert page.evaluate("window.__counted") == ["5", "4", "3", "2", "1"]
    # One chime (made with WebAudio) and one vibration, for the one step change.
    assert page.get_attribute("#countdown", "data-chimes") == "1"
    assert page.evaluate("window.__buzzes.length") == 1


def test_the_chime_and_vibration_switches_are_remembered(server: Server, page_at: PageAt) -> None:
    session_id = new_session(server, minutes=5)
    send(server, session_id, "skip")
    page = live_page(page_at, server, session_id)
    assert page.is_checked("#set-chime") and page.is_checked("#set-vibrate")
    page.click("#step-settings summary")
    page.uncheck("#set-chime")
    page.uncheck("#set-vibrate")
    page.reload()
    page.wait_for_selector("#live[data-live]", state="attached")
    assert not page.is_checked("#set-chime") and not page.is_checked("#set-vibrate")
    assert page.evaluate("localStorage.getItem('backrub.chime')") == "off"
    # The countdown still shows, silently and still.
    page.evaluate(WATCH_COUNTDOWN)
    first = page.text_content("#now-label")
    until(lambda: page.text_content("#now-label") != first)
    assert page.evaluate("window.__counted")[-1] == "1"
    assert page.get_attribute("#countdown", "data-chimes") is None
    assert page.evaluate("window.__buzzes.length") == 0
    page.click("#step-settings summary")
    page.check("#set-chime")  # back on: a taste of it at once
    assert page.get_attribute("#countdown", "data-chimes") == "1"
    page.reload()
    page.wait_for_selector("#live[data-live]", state="attached")
    assert page.is_checked("#set-chime") and not page.is_checked("#set-vibrate")


# ---------------------------------------------------------------- +30 s, back, repeat


def test_plus_30_s_gives_this_step_more_time_and_the_session_keeps_its_length(
    server: Server, page_at: PageAt
) -> None:
    session_id = new_session(server)
    page = live_page(page_at, server, session_id)
    before = state_of(server, session_id)
    shown_before = seconds(page.text_content("#step-left") or "")
    page.click("#extend")
    page.wait_for_selector("#near:not([hidden])")
    after = state_of(server, session_id)
    assert after["step"]["id"] == before["step"]["id"]
    assert after["step"]["seconds"] == before["step"]["seconds"] + 30
    # The session is as long as before: the time came from later steps.
    assert after["budget"] == before["budget"]
    assert after["worked"] + after["session_left"] == pytest.approx(before["budget"], abs=0.2)
    assert after["reaction"]["event"] == "extend"
    assert "later steps are shorter" in after["reaction"]["what"]
    shown_after = seconds(page.text_content("#step-left") or "")
    passed = (after["clock"] - before["clock"]) + 2  # what the page's clock may have run on
    assert 30 - passed <= shown_after - shown_before <= 30
    # The answer is by the button pressed, not a screen away.
    assert page.get_attribute("#near", "data-anchor") == "extend"
    assert near_each_other(page, "#near", "#extend")
    assert "later steps are shorter" in (page.text_content("#near") or "")


def test_back_one_step_shows_the_step_before_and_says_why(
    server: Server, page_at: PageAt, screenshot: Screenshot
) -> None:
    session_id = new_session(server)
    first = state_of(server, session_id)["step"]
    send(server, session_id, "skip")
    page = live_page(page_at, server, session_id)
    assert page.text_content("#cue") != first["cue"]
    page.click("#back-step")
    page.wait_for_selector("#near:not([hidden])")
    until(lambda: page.text_content("#cue") == first["cue"])
    state = state_of(server, session_id)
    assert state["step"]["id"] == first["id"]
    assert state["reaction"]["event"] == "back"
    # Why the step changed: on top of the queue, and by the button pressed.
    top = page.locator("#messages-now li").first
    assert top.get_attribute("data-kind") == "why"
    assert f"The step before again: {first['where']}" in (top.text_content() or "")
    assert page.get_attribute("#near", "data-anchor") == "back-step"
    assert near_each_other(page, "#near", "#back-step")
    screenshot(page, "live-back-step-light", full_page=False)


def test_back_on_the_first_step_is_refused_with_the_reason_by_the_button(
    server: Server, page_at: PageAt
) -> None:
    session_id = new_session(server)
    page = live_page(page_at, server, session_id)
    cue = page.text_content("#cue")
    page.click("#back-step")
    page.wait_for_selector("#near:not([hidden])")
    assert "Not going back: this is the first step" in (page.text_content("#near") or "")
    assert page.text_content("#cue") == cue


def test_repeat_the_cue_shows_and_says_it_again_without_sending_anything(
    server: Server, page_at: PageAt
) -> None:
    session_id = new_session(server)
    page = live_page(page_at, server, session_id)
    before = state_of(server, session_id)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.click("#repeat-cue")
    cue = before["step"]["cue"]
    until(lambda: cue in page.evaluate("window.__spoken"))
    assert "changed" in (page.get_attribute("#cue", "class") or "")
    assert page.locator("#cue").is_visible()
    assert f"Again: {cue}" == page.text_content("#near")
    assert state_of(server, session_id)["seq"] == before["seq"]  # no event was sent


# ---------------------------------------------------------------- the message queue


def test_the_queue_keeps_every_message_newest_first(server: Server, page_at: PageAt) -> None:
    session_id = new_session(server)
    page = live_page(page_at, server, session_id)
    page.click('.dock [data-event="more"]')
    until(lambda: page.locator("#messages-now li").count() >= 1)
    page.click('.dock [data-event="less"]')
    until(lambda: "Lighter" in (page.locator("#messages-now li").first.text_content() or ""))
    shown = [item.text_content() or "" for item in page.locator("#messages-now li").all()]
    firmer = next(i for i, text in enumerate(shown) if "Firmer" in text)
    lighter = next(i for i, text in enumerate(shown) if "Lighter" in text)
    assert lighter < firmer, shown  # newest first
    # Messages from elsewhere (another device) come in too, and none pushes another out at once.
    for kind in ("more", "less", "more"):
        send(server, session_id, kind)
    until(lambda: page.locator("#messages-now li").count() >= 5)
    assert page.locator("#messages-now li").count() >= 5  # all still on show, a burst
    # All of them are one tap away, newest first.
    page.click("#messages-all summary")
    listed = [item.text_content() or "" for item in page.locator("#messages-list li").all()]
    assert len(listed) >= 5 and listed[0] == shown_first(page)
    assert int(page.text_content("#messages-count") or 0) == len(listed)


def shown_first(page: Page) -> str:
    return page.locator("#messages-now li").first.text_content() or ""


def test_the_answer_to_a_dock_press_is_by_the_dock(server: Server, page_at: PageAt) -> None:
    session_id = new_session(server)
    page = live_page(page_at, server, session_id)
    page.click('.dock [data-event="more"]')
    page.wait_for_selector("#ack:has-text('Sent: More pressure')")
    assert "Firmer" in (page.text_content("#ack") or "")
    assert near_each_other(page, "#ack", ".dock", within=30)
    assert page.is_hidden("#near")  # no second copy of it


# ---------------------------------------------------------------- axe and screenshots


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_nothing_with_the_settings_and_the_queue_open(
    server: Server, page_at: PageAt, screenshot: Screenshot, theme: str
) -> None:
    session_id = new_session(server)
    for size in (PHONE, LAPTOP):
        page = live_page(page_at, server, session_id, size)
        page.emulate_media(color_scheme=theme)  # type: ignore[arg-type]
        page.click("#extend")
        page.wait_for_selector("#near:not([hidden])")
        until(lambda page=page: page.locator("#messages-now li").count() >= 1)
        page.click("#messages-all summary")
        page.click("#step-settings summary")
        assert page.is_visible("#set-chime") and page.is_visible("#messages-list")
        if size == PHONE:
            assert violations(page) == []
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, f"live-controls-{theme}", full_page=False)
        page.locator("#messages").scroll_into_view_if_needed()
        screenshot(page, f"live-messages-{theme}", full_page=False)
        page.locator("#step-settings").scroll_into_view_if_needed()
        screenshot(page, f"live-settings-{theme}", full_page=False)
