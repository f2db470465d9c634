"""The live page's look (issue 11) in a real browser: what the first screen holds at 360 x 780,
780 x 360 and 1280 x 800 in both themes, where the dock may not cover anything, and the map's
step change (only the step's part fetched, exactly the step's regions lit, the hand on the spot,
still when reduced motion is asked for). Each size is saved as a screenshot in both themes."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.web.conftest import PageAt, Screenshot, requests_of
from tests.web.speech import speech_stub
from tests.webserver import Server, module_server, start_session

Theme = Literal["light", "dark"]
PHONE, LANDSCAPE, LAPTOP = (360, 780), (780, 360), (1280, 800)
# The first screen of the step: what the giver glances at with a hand on the back.
FIRST_SCREEN = {
    "cue": "#cue",
    "technique picture": "#picture",
    "contact": "#contact",
    "pressure": "#pressure",
    "step timer": ".fact.timer",
}


# The layout does not depend on the database: one SQLite server, its clock at real speed.
server = module_server("live-look")


def paused_session(server: Server, *, paused: bool = True) -> str:
    with server.client() as client:
        session_id = str(start_session(client)["id"])
        if paused:
            client.post(f"/api/sessions/{session_id}/events", json={"kind": "pause"})
    return session_id


def open_live(
    page_at: PageAt, server: Server, size: tuple[int, int], theme: Theme, *, paused: bool = True
) -> Page:
    page = page_at(size[0], base_url=server.url, height=size[1])
    page.add_init_script(speech_stub())  # speaks quietly: no banner over the top
    page.emulate_media(color_scheme=theme)
    page.goto(f"/session/{paused_session(server, paused=paused)}")
    page.wait_for_selector("#live[data-live]", state="attached")
    page.wait_for_load_state("load")
    return page


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not shown"
    return dict(found)


def lit_spot(page: Page) -> dict[str, float]:
    """The box around the lit regions on the map, in the page's viewport."""
    spot: dict[str, float] | None = page.evaluate(
        """() => {
          const lit = [...document.querySelectorAll('#map .region.highlight')];
          if (!lit.length) return null;
          const boxes = lit.map((r) => r.getBoundingClientRect());
          const x = Math.min(...boxes.map((b) => b.left)), y = Math.min(...boxes.map((b) => b.top));
          return { x, y, width: Math.max(...boxes.map((b) => b.right)) - x,
                   height: Math.max(...boxes.map((b) => b.bottom)) - y };
        }"""
    )
    assert spot is not None, "no region is lit on the map"
    return spot


def covered_by_dock(page: Page) -> list[str]:
    """Buttons, links, captions and hints the dock hides, at the present scroll."""
    found: list[str] = page.evaluate(
        """() => {
          const dock = document.querySelector('.dock').getBoundingClientRect();
          const wanted =
            'button, a, summary, select, .hint, .map-hint, .fact, #cue, #picture, #map svg';
          return [...document.querySelectorAll(wanted)]
            .filter((e) => !e.closest('.dock') && e.checkVisibility())
            .filter((e) => {
              const b = e.getBoundingClientRect();
              const seen = b.bottom > 0 && b.top < innerHeight && b.width > 0 && b.height > 0;
              return seen && b.left < dock.right - 1 && b.right > dock.left + 1
                && b.top < dock.bottom - 1 && b.bottom > dock.top + 1;
            })
            .map((e) => e.id ? '#' + e.id : e.tagName.toLowerCase() + '.' + e.className);
        }"""
    )
    return found


def smallest_map_text(page: Page) -> float:
    """The smallest text shown on or over the map, in CSS pixels as drawn."""
    smallest: float = page.evaluate(
        """() => {
          // Drawn, not only there: checkVisibility() says yes to SVG text in a hidden group.
          const shown = (e) => e.getBoundingClientRect().width > 0;
          const px = (e) => parseFloat(getComputedStyle(e).fontSize);
          const sizes = [...document.querySelectorAll('#map svg text')].filter(shown)
            .map((t) => px(t) * t.getScreenCTM().a);
          sizes.push(...[...document.querySelectorAll('.map-sides span')].filter(shown).map(px));
          return Math.min(...sizes, 99);
        }"""
    )
    return smallest


def violations(page: Page) -> list[str]:
    found: list[dict[str, Any]] = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['nodes'][0]['target']}" for v in found]


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", [PHONE, LANDSCAPE, LAPTOP], ids=["phone", "landscape", "laptop"])
def test_the_first_screen_holds_the_step_and_the_lit_spot_clear_of_the_dock(
    page_at: PageAt, server: Server, screenshot: Screenshot, size: tuple[int, int], theme: Theme
) -> None:
    width, height = size
    page = open_live(page_at, server, size, theme)
    assert page.evaluate("scrollY") == 0
    dock = box(page, ".dock")
    for what, selector in {**FIRST_SCREEN, "map": "#map svg"}.items():
        found = box(page, selector)
        assert found["x"] >= 0 and found["x"] + found["width"] <= width, f"{what} is cut at a side"
        assert found["y"] >= 0, f"{what} starts above the screen"
        if selector != "#map svg":  # the whole body need not fit; the lit spot must
            assert found["y"] + found["height"] <= height, f"{what} is below the first screen"
    spot = lit_spot(page)
    assert spot["y"] >= 0 and spot["y"] + spot["height"] <= height, "the lit spot is off screen"
    if size == PHONE:
        # The dock along the bottom: the step and the spot all end above its top.
        assert dock["y"] + dock["height"] == height and dock["width"] == width
        for what, selector in {**FIRST_SCREEN, "map": "#map svg"}.items():
            found = box(page, selector)
            assert found["y"] + found["height"] <= dock["y"], f"{what} is under the dock"
        assert spot["y"] + spot["height"] <= dock["y"], "the lit spot is under the dock"
    assert smallest_map_text(page) >= 12, "text on the map too small to read"
    screenshot(page, f"live-first-screen-{theme}-{height}h", full_page=False)
    if size != PHONE:
        # On its side or on a laptop, the dock covers nothing wherever the page is scrolled.
        for where in ("0", "document.body.scrollHeight / 2", "document.body.scrollHeight"):
            page.evaluate(f"window.scrollTo(0, {where})")
            assert covered_by_dock(page) == [], f"scrolled to {where}"
    else:
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        assert covered_by_dock(page) == [], "the end of the page stays under the dock"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert violations(page) == []


def test_a_step_change_fetches_only_the_steps_part_and_lights_exactly_its_regions(
    page_at: PageAt, server: Server
) -> None:
    page = open_live(page_at, server, PHONE, "light", paused=False)
    session_id = page.get_attribute("#live", "data-session")
    first = page.text_content("#cue")
    with server.client() as client:
        state = client.post(f"/api/sessions/{session_id}/events", json={"kind": "skip"}).json()
    step = state["step"]
    assert step["cue"] != first
    page.wait_for_function(  # the state came by the stream, then the step's part
        "id => document.querySelector('#map svg > .live-hand')?.dataset.contact === id"
        " && document.querySelector('#map').dataset.key.startsWith(" + repr(step["id"]) + ")",
        arg=step["contact"],
    )
    assert page.text_content("#cue") == step["cue"]
    lit = page.eval_on_selector_all(
        "#map .region.highlight", "rs => rs.map((r) => r.dataset.region)"
    )
    assert sorted(lit) == sorted(step["regions"])
    assert page.locator("#map .highlight-ring").count() == len(step["regions"])
    assert page.locator("#map .highlight-glow").count() == len(step["regions"])
    # One stroke drawn, the new one: the old step's part was replaced, not added to.
    assert page.locator("#map svg > .plan-strokes").count() == 1
    assert page.locator("#map svg > .live-hand").count() == 1
    assert page.locator("#map .stroke-flow").count() > 0
    fetched = [url for url in requests_of(page) if "/api/sessions/" in url]
    assert not [url for url in fetched if url.endswith("/map.svg")], "the whole map again"
    assert [url for url in fetched if url.endswith("/step-map.svg")]


@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
def test_the_hand_moves_along_the_stroke_unless_reduced_motion_is_asked(
    page_at: PageAt, server: Server, motion: Literal["reduce", "no-preference"]
) -> None:
    page = page_at(PHONE[0], base_url=server.url, height=PHONE[1])
    page.emulate_media(reduced_motion=motion)
    session_id = paused_session(server, paused=False)
    page.goto(f"/session/{session_id}")
    page.wait_for_selector("#live[data-live]", state="attached")
    moving = page.locator("#map .hand-moving").first
    still = page.locator("#map .hand-still").first
    if motion == "reduce":
        assert still.is_visible() and not moving.is_visible()
        assert page.locator("#map .stroke-flow").first.is_hidden()
        return
    assert moving.is_visible() and not still.is_visible()
    # It travels: the hand is somewhere else a moment later.
    before = moving.bounding_box()
    page.wait_for_timeout(400)
    after = moving.bounding_box()
    assert before and after and (before["x"], before["y"]) != (after["x"], after["y"])
    # Paused, hands off: the hand waits, still, at the stroke's start.
    with server.client() as client:
        client.post(f"/api/sessions/{session_id}/events", json={"kind": "pause"})
    page.wait_for_selector('#live[data-status="paused"]')
    assert still.is_visible() and not moving.is_visible()


def test_picking_a_spot_on_a_phone_on_its_side_shows_the_question_and_the_back_together(
    page_at: PageAt, server: Server, screenshot: Screenshot
) -> None:
    page = open_live(page_at, server, LANDSCAPE, "light")
    page.click(".cue")  # focus on the page, not in a field
    page.keyboard.press("o")  # ouch: where does it hurt?
    page.wait_for_selector("#pick-prompt:not([hidden])")
    height = LANDSCAPE[1]
    dock = box(page, ".dock")
    for what, selector in {"question": "#pick-send", "map": "#map svg"}.items():
        found = box(page, selector)
        assert found["x"] + found["width"] <= dock["x"], f"the {what} is under the dock"
        assert found["y"] >= -8 and found["y"] + found["height"] <= height, f"the {what} is cut"
    spot = lit_spot(page)
    assert spot["y"] >= 0 and spot["y"] + spot["height"] <= height
    screenshot(page, "live-picking-landscape", full_page=False)


def session_at_step(server: Server, ending: str) -> str:
    """A paused session at the first step whose id ends with `ending` (skipped to it)."""
    with server.client() as client:
        session_id = str(start_session(client)["id"])
        for _ in range(12):
            reply = client.post(f"/api/sessions/{session_id}/events", json={"kind": "skip"})
            if reply.json()["step"]["id"].endswith(ending):
                break
        else:
            raise AssertionError(f"no step ending {ending!r} in the first 12")
        client.post(f"/api/sessions/{session_id}/events", json={"kind": "pause"})
    return session_id


def clipped(page: Page, selector: str) -> dict[str, Any] | None:
    """The element's text and sizes when some of it is cut off (hidden overflow), else None."""
    found: dict[str, Any] | None = page.evaluate(
        """(selector) => {
          const e = document.querySelector(selector);
          const cut = e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1;
          return cut ? { text: e.textContent, scroll: [e.scrollWidth, e.scrollHeight],
                         client: [e.clientWidth, e.clientHeight] } : null;
        }""",
        selector,
    )
    return found


@pytest.mark.parametrize("step", ["first", "whole-back"])
@pytest.mark.parametrize("size", [PHONE, LANDSCAPE, LAPTOP], ids=["phone", "landscape", "laptop"])
def test_the_where_line_is_read_in_full_on_a_phone_either_way_up_and_a_laptop(
    page_at: PageAt, server: Server, size: tuple[int, int], step: str
) -> None:
    """Where on the back the step works, the side included, is never cut to one line: on a
    phone on its side it wraps beside the picture (it used to end in an ellipsis there)."""
    session_id = paused_session(server) if step == "first" else session_at_step(server, step)
    page = page_at(size[0], base_url=server.url, height=size[1])
    page.add_init_script(speech_stub())
    page.goto(f"/session/{session_id}")
    page.wait_for_selector("#live[data-live]", state="attached")
    assert page.text_content("#side"), "the step names its side"
    assert clipped(page, "#now-label") is None
    where = box(page, "#now-label")
    assert where["x"] >= 0 and where["x"] + where["width"] <= size[0]
    if step == "first":  # and the step's facts are still on the first screen
        facts = box(page, ".facts")
        assert where["y"] + where["height"] <= facts["y"]
        assert facts["y"] + facts["height"] <= size[1], "the facts went below the first screen"
