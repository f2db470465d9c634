"""The live session page: rendered by the server, then driven in a real browser at phone size.

The server's clock runs 20 times fast, so a 30-minute session lasts 90 s and a step a few
seconds: the browser tests wait for what the page shows rather than for fixed times.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from markupsafe import escape

from tests.webserver import Server

PHONE = {"width": 360, "height": 740}
WAIT_MS = 5000


def new_session(server: Server, minutes: int = 30) -> dict[str, Any]:
    with server.client() as client:
        reply = client.post("/api/sessions", json={"minutes": minutes})
    assert reply.status_code == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


def state_of(server: Server, session_id: str) -> dict[str, Any]:
    with server.client() as client:
        reply = client.get(f"/api/sessions/{session_id}")
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def send(server: Server, session_id: str, kind: str, **extra: object) -> dict[str, Any]:
    with server.client() as client:
        reply = client.post(f"/api/sessions/{session_id}/events", json={"kind": kind, **extra})
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def eventually(check: Callable[[], bool], *, timeout: float = WAIT_MS / 1000) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout:g} s: {check}")
        time.sleep(0.05)


# ---------------------------------------------------------------- the page as HTML


def test_the_page_shows_the_current_step(web_server: Server) -> None:
    session = new_session(web_server)
    session_id = session["id"]
    send(web_server, session_id, "pause")  # a still picture: the step cannot move on
    state = state_of(web_server, session_id)
    step = state["step"]
    with web_server.client() as client:
        page = client.get(f"/session/{session_id}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert f'<p id="cue" class="cue" aria-live="polite">{escape(step["cue"])}</p>' in html
    assert str(escape(step["how"])) in html
    assert f'data-contact="{step["contact"]}"' in html
    assert f'<use href="#icon-{step["contact"]}"/>' in html
    assert f'id="pressure" class="fact pressure" data-level="{step["pressure"]}"' in html
    assert 'id="status" class="status" data-status="paused"' in html
    # The map, drawn server-side, with the step's regions lit and its stroke drawn.
    assert re.search(r'<div id="map" class="map live-map"[^>]*>\s*<svg', html)
    for region in step["regions"]:
        assert re.search(rf'id="region-{region}" class="[^"]*\bhighlight\b', html)
    assert "stroke-arrow" in html or "stroke-hold" in html
    # Every button the receiver and the giver need, with hooks for the browser tests.
    for kind in (
        "more", "less", "pain", "ticklish", "headache", "nausea", "still-tight", "released",
        "accept-elbow", "decline-elbow", "skip", "pause", "resume", "stop",
    ):  # fmt: skip
        assert f'data-event="{kind}"' in html, kind
    for value in range(11):
        assert f'data-value="{value}"' in html
    for hook in ("step-left", "session-left", "progress", "next-step", "mute", "stop-confirm"):
        assert f'id="{hook}"' in html, hook
    assert 'data-action="knot"' in html and 'id="pick-region"' in html
    low, high = step["target_band"]
    assert f'data-low="{low}" data-high="{high}"' in html


def test_the_page_loads_only_its_own_script_and_style(web_server: Server) -> None:
    session_id = new_session(web_server)["id"]
    with web_server.client() as client:
        html = client.get(f"/session/{session_id}").text
        script = client.get("/static/live.js")
        style = client.get("/static/live.css")
    scripts = re.findall(r"<script[^>]*>", html)
    assert len(scripts) == 2
    # The colour theme, set before the first paint, then the page's own module.
    assert re.fullmatch(r'<script src="/static/theme\.js\?v=[^"]+">', scripts[0])
    assert re.fullmatch(r'<script type="module" src="/static/live\.js\?v=[^"]+">', scripts[1])
    assert re.search(r'<link rel="stylesheet" href="/static/live\.css\?v=[^"]+">', html)
    assert not re.search(r"\son[a-z]+=", html)  # no inline handlers: the CSP would block them
    # The one full link is this server's own: the receiver's remote, for another phone to open.
    remote = f"{web_server.url}/session/{session_id}/remote"
    html = html.replace(remote, "")
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert style.status_code == 200 and "text/css" in style.headers["content-type"]
    assert "speechSynthesis" in script.text
    # The stream is followed by the module the remote shares (static/stream.js).
    # (Served with the file's version, like every sibling import: "./stream.js?v=...")
    assert re.search(r'from "\./stream\.js(\?v=[^"]+)?"', script.text)
    with web_server.client() as client:
        assert "EventSource" in client.get("/static/stream.js").text


def test_an_unknown_session_gets_a_404_page(web_server: Server) -> None:
    with web_server.client() as client:
        page = client.get("/session/no-such-session")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "No such session" in page.text
    assert 'href="/"' in page.text
    assert "/static/live.js" not in page.text


def test_a_session_that_is_over_goes_to_its_summary(web_server: Server) -> None:
    session_id = new_session(web_server)["id"]
    send(web_server, session_id, "stop")
    with web_server.client() as client:
        page = client.get(f"/session/{session_id}", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == f"/session/{session_id}/summary"


# ---------------------------------------------------------------- in a browser, at 360 px


class Phone:
    """One browser context at phone size, on one session's live page; JS errors are kept."""

    def __init__(self, browser: Any, server: Server, session_id: str) -> None:
        self.context = browser.new_context(viewport=PHONE, device_scale_factor=1)
        self.context.set_default_timeout(WAIT_MS)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))
        self.page.on(
            "console",
            lambda message: (
                self.problems.append(message.text)
                if message.type == "error" and "Failed to load resource" not in message.text
                else None
            ),
        )
        self.page.goto(f"{server.url}/session/{session_id}")
        # Live: the script has taken over once it has drawn a state from the server.
        # (wait_for_selector, not wait_for_function: the page's CSP rightly forbids eval.)
        self.page.wait_for_selector("#live[data-live]", state="attached")

    def level(self) -> int:
        return int(self.page.get_attribute("#pressure", "data-level") or 0)

    def close(self) -> None:
        self.context.close()
        assert self.problems == []


@pytest.fixture
def phones(browser: Any, web_server: Server) -> Iterator[Callable[[str], Phone]]:
    opened: list[Phone] = []

    def open_phone(session_id: str) -> Phone:
        phone = Phone(browser, web_server, session_id)
        opened.append(phone)
        return phone

    yield open_phone
    for phone in opened:
        phone.close()


def test_the_step_shows_with_its_region_lit(web_server: Server, phones: Any) -> None:
    session_id = new_session(web_server)["id"]
    send(web_server, session_id, "pause")
    step = state_of(web_server, session_id)["step"]
    page = phones(session_id).page
    assert page.text_content("#cue") == step["cue"]
    assert page.get_attribute("#contact", "data-contact") == step["contact"]
    assert step["contact_name"] in (page.text_content("#contact") or "")
    assert (page.text_content("#status") or "").strip() == "Paused"
    for region in step["regions"]:
        assert page.locator(f'#map [data-region="{region}"].highlight').count() == 1
    assert page.locator("#map .stroke-flow").count() > 0 or step["direction"] == "still"
    # The giver reads how, in a <details> that opens.
    page.click("#how summary")
    assert page.is_visible("#how-text")
    # Phone sized: no sideways scrolling, and the quick buttons big and at the bottom.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for kind in ("less", "more", "pain", "resume"):
        box = page.locator(f'.dock [data-event="{kind}"]').bounding_box()
        assert box is not None and box["width"] >= 48 and box["height"] >= 48, kind
        assert box["y"] + box["height"] <= PHONE["height"] and box["y"] > PHONE["height"] - 100
    buttons = page.locator(".feedback button, .controls button").all()
    assert len(buttons) >= 10, "the feedback and control buttons are on the page"
    for button in buttons:
        box = button.bounding_box()
        assert box is not None and box["height"] >= 48 and box["width"] >= 48


def test_more_changes_the_pressure_on_the_page(web_server: Server, phones: Any) -> None:
    session_id = new_session(web_server)["id"]
    phone = phones(session_id)
    page = phone.page
    # The warm-up's first steps are all light (2), well under what is safe there.
    assert phone.level() == 2
    page.click('.dock [data-event="more"]')
    page.wait_for_selector("#ack:has-text('Sent: More pressure')")
    # Firmer by one level, on the page as on the server, and the guide says so.
    eventually(lambda: phone.level() == 3)
    after = state_of(web_server, session_id)
    assert after["step"]["pressure"] == 3
    cues = [cue["key"] for cue in after["cues"]]
    assert "more" in cues and "at-limit" not in cues


def test_ouch_asks_where_and_a_tap_on_the_map_sends_the_spot(
    web_server: Server, phones: Any
) -> None:
    session_id = new_session(web_server)["id"]
    page = phones(session_id).page
    page.click('.dock [data-event="pain"]')
    page.wait_for_selector("#pick-question:has-text('Where does it hurt?')")
    assert page.is_visible("#pick-none")  # the spot is optional
    page.click('#map [data-region="latissimus-left"]')
    assert page.is_hidden("#pick-prompt")
    page.wait_for_selector("#ack:has-text('Ouch sent')")
    eventually(lambda: (state_of(web_server, session_id)["reaction"] or {}).get("event") == "pain")
    first = state_of(web_server, session_id)["reaction"]["number"]
    # Again without a spot: sent at once, no region.
    page.click('.dock [data-event="pain"]')
    page.click("#pick-none")
    eventually(lambda: state_of(web_server, session_id)["reaction"]["number"] > first)
    # A press that changes nothing says why instead of only "Sent".
    page.click('.feedback [data-event="still-tight"]')
    page.wait_for_selector("#ack:has-text('No knot being worked')")


def test_knot_here_by_tapping_the_map(web_server: Server, phones: Any) -> None:
    session_id = new_session(web_server)["id"]
    page = phones(session_id).page
    assert state_of(web_server, session_id)["step"]["phase"] == "opening"
    # Knot here: the page asks where, with the map and a list for keyboards.
    page.click("#knot-here")
    assert page.is_visible("#pick-prompt") and page.is_visible("#pick-region")
    assert page.get_attribute("#knot-here", "aria-expanded") == "true"
    # Escape leaves the mode without sending anything.
    page.keyboard.press("Escape")
    assert page.is_hidden("#pick-prompt")
    page.click("#knot-here")
    page.click('#map [data-region="middle-trapezius-right"]')
    assert page.is_hidden("#pick-prompt")
    # During the warm-up the knot is noted for later.
    page.wait_for_selector("#said:has-text('Knot noted')")
    # Skip out of the warm-up: the noted knot is worked next.
    for _ in range(10):
        if state_of(web_server, session_id)["step"]["phase"] != "opening":
            break
        version = page.get_attribute("#live", "data-version")
        page.click("#skip")
        page.wait_for_selector(f"#live:not([data-version='{version}'])", state="attached")
    knot = page.locator('#knot-state[data-region="middle-trapezius-right"]')
    knot.wait_for()
    # The map follows the step: the knot's muscle is lit now.
    page.wait_for_selector('#map [data-region="middle-trapezius-right"].highlight')
    assert "Between the spine and the shoulder blade" in (knot.text_content() or "")
    assert "active" in (knot.get_attribute("class") or "").split()


def test_knot_here_from_the_keyboard(web_server: Server, phones: Any) -> None:
    session_id = new_session(web_server)["id"]
    page = phones(session_id).page
    page.keyboard.press("k")
    assert page.is_visible("#pick-prompt")
    assert page.evaluate("document.activeElement.id") == "pick-region"
    page.select_option("#pick-region", "shoulder-blade-left")
    page.click("#pick-send")
    page.wait_for_selector("#ack:has-text('Knot sent')")
    # During the warm-up a knot is noted for later (O1, O4), on the page and on the server.
    page.wait_for_selector("#said:has-text('Knot noted')")
    cues = [cue["key"] for cue in state_of(web_server, session_id)["cues"]]
    assert "knot-later" in cues and "knot-found" not in cues


def test_the_felt_dial_marks_the_target_band(web_server: Server, phones: Any) -> None:
    session_id = new_session(web_server)["id"]
    page = phones(session_id).page
    low = int(page.get_attribute("#felt", "data-low") or -1)
    high = int(page.get_attribute("#felt", "data-high") or -1)
    assert [low, high] == state_of(web_server, session_id)["step"]["target_band"]
    for value in range(11):
        classes = page.get_attribute(f'#felt [data-value="{value}"]', "class") or ""
        assert ("in-band" in classes.split()) == (low <= value <= high), value
    assert page.text_content("#band") == f"{low} to {high}"
    page.click(f'#felt [data-value="{low}"]')
    page.wait_for_selector(f"#ack:has-text('feels {low} of 10')")


def test_pause_and_resume(web_server: Server, phones: Any) -> None:
    session_id = new_session(web_server)["id"]
    page = phones(session_id).page
    page.click("#pause")
    page.wait_for_selector("#status[data-status='paused']")
    assert page.is_visible("#resume") and page.is_hidden("#pause")
    assert state_of(web_server, session_id)["status"] == "paused"
    # The clocks stand still while paused.
    shown = page.text_content("#session-left")
    time.sleep(0.6)
    assert page.text_content("#session-left") == shown
    # Space resumes (as in the terminal guide).
    page.locator("#cue").click()
    page.keyboard.press("Space")
    page.wait_for_selector("#status[data-status='running']")
    assert page.is_visible("#pause")
    assert state_of(web_server, session_id)["status"] == "running"


def test_two_devices_follow_one_session(web_server: Server, phones: Any) -> None:
    session_id = new_session(web_server)["id"]
    giver, receiver = phones(session_id).page, phones(session_id).page
    receiver.click("#pause")
    giver.wait_for_selector("#status[data-status='paused']")
    assert giver.is_visible("#resume")
    giver.click("#resume")
    receiver.wait_for_selector("#status[data-status='running']")
    # A change sent from one reaches the other through the stream, not through a reply.
    receiver.click('.dock [data-event="less"]')
    receiver.wait_for_selector("#ack:has-text('Sent: Less pressure')")
    eventually(
        lambda: (
            giver.get_attribute("#live", "data-version")
            == receiver.get_attribute("#live", "data-version")
            and giver.text_content("#cue") == receiver.text_content("#cue")
            and giver.get_attribute("#pressure", "data-level")
            == receiver.get_attribute("#pressure", "data-level")
        )
    )


def test_voice_can_be_muted_and_stays_muted(web_server: Server, phones: Any) -> None:
    session_id = new_session(web_server)["id"]
    page = phones(session_id).page
    mute = page.locator("#mute")
    assert mute.get_attribute("aria-pressed") == "false"
    mute.click()
    assert mute.get_attribute("aria-pressed") == "true"
    assert page.evaluate("localStorage.getItem('backrub.voice')") == "off"
    page.reload()
    page.wait_for_selector("#live[data-live]", state="attached")
    assert page.get_attribute("#mute", "aria-pressed") == "true"
    page.keyboard.press("v")
    assert page.get_attribute("#mute", "aria-pressed") == "false"


def test_stop_asks_first_then_goes_to_the_summary(web_server: Server, phones: Any) -> None:
    session_id = new_session(web_server)["id"]
    page = phones(session_id).page
    page.click("#stop")
    assert page.is_visible("#stop-dialog")
    page.click("#stop-cancel")
    assert page.is_hidden("#stop-dialog")
    assert state_of(web_server, session_id)["status"] == "running"
    page.keyboard.press("q")
    assert page.is_visible("#stop-dialog")
    page.click("#stop-confirm")
    page.wait_for_selector("#status[data-status='stopped']")
    assert page.is_visible("#over")
    assert page.get_attribute("#summary-link", "href") == f"/session/{session_id}/summary"
    assert page.locator('.dock [data-event="more"]').is_disabled()
    page.wait_for_url(f"**/session/{session_id}/summary", timeout=8000)


# Stand-ins for the speech and wake-lock APIs, installed before the page's own script runs.
FAKE_DEVICE = """
window.__spoken = [];
window.__wake = [];
Object.defineProperty(window, "speechSynthesis", {
  configurable: true,
  value: {
    speak(utterance) { window.__spoken.push(utterance.text); },
    cancel() { window.__spoken.push("<cancel>"); },
    speaking: false,
    pending: false,
  },
});
Object.defineProperty(navigator, "wakeLock", {
  configurable: true,
  value: {
    async request(kind) {
      window.__wake.push(kind);
      const sentinel = new EventTarget();
      sentinel.release = async () => { window.__wake.push("released"); };
      return sentinel;
    },
  },
});
"""


def test_cues_are_spoken_once_and_the_screen_kept_awake(web_server: Server, browser: Any) -> None:
    session = new_session(web_server)
    session_id = session["id"]
    first_cues = [cue["text"] for cue in session["state"]["cues"]]
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(WAIT_MS)
    context.add_init_script(FAKE_DEVICE)
    try:
        page = context.new_page()
        page.goto(f"{web_server.url}/session/{session_id}")
        page.wait_for_selector("#live[data-live]", state="attached")
        eventually(lambda: page.evaluate("window.__spoken").count(first_cues[0]) == 1)
        assert page.evaluate("window.__spoken")[:2] == first_cues[:2]
        eventually(lambda: page.evaluate("window.__wake") == ["screen"])
        # A cue caused on another device arrives by the stream and is spoken too.
        reply = send(web_server, session_id, "more")
        assert reply["cue_count"] > len(first_cues)
        said = reply["cues"][-1]["text"]
        eventually(lambda: said in page.evaluate("window.__spoken"))
        # After a reload this tab does not repeat what it has said already.
        page.reload()
        page.wait_for_selector("#live[data-live]", state="attached")
        time.sleep(0.3)
        assert first_cues[0] not in page.evaluate("window.__spoken")
        # Muted: nothing more is said.
        page.click("#mute")
        spoken = len(page.evaluate("window.__spoken"))
        send(web_server, session_id, "ticklish")
        time.sleep(0.6)
        assert page.evaluate("window.__spoken")[spoken:] == []
        # Over: the screen may sleep again.
        send(web_server, session_id, "stop")
        eventually(lambda: "released" in page.evaluate("window.__wake"))
    finally:
        context.close()


def test_keyboard_shortcuts(web_server: Server, phones: Any) -> None:
    session_id = new_session(web_server)["id"]
    page = phones(session_id).page
    assert page.is_hidden("#shortcuts dl")
    page.click("#shortcuts summary")
    assert page.is_visible("#shortcuts dl")
    page.locator("#cue").click()  # focus on the page, not on a button
    page.keyboard.press("m")
    page.wait_for_selector("#ack:has-text('Sent: More pressure')")
    page.keyboard.press("4")
    page.wait_for_selector("#ack:has-text('Sent: feels 4 of 10')")
    page.keyboard.press("t")
    page.wait_for_selector("#ack:has-text('Sent: Ticklish')")
    # Tab reaches the quick buttons, and Enter presses them.
    page.focus('.dock [data-event="less"]')
    page.keyboard.press("Enter")
    page.wait_for_selector("#ack:has-text('Sent: Less pressure')")


def test_a_refused_event_is_shown_as_an_error(web_server: Server, phones: Any) -> None:
    session_id = new_session(web_server)["id"]
    page = phones(session_id).page
    assert page.get_attribute("#errors", "role") == "alert"
    # A spot the server does not know (as from an old page): the server says 422, the page says why.
    page.keyboard.press("k")
    page.evaluate("document.querySelector('#pick-region').add(new Option('Nowhere', 'nowhere'))")
    page.select_option("#pick-region", "nowhere")
    page.click("#pick-send")
    page.wait_for_selector("#errors:has-text('unknown region')")
    # Tapping the message puts it away.
    page.click("#errors")
    assert page.text_content("#errors") == ""
