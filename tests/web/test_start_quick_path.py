"""The start page on a 360 x 780 phone (issue 11): the quick path for a saved receiver, the
first-time walkthrough, the tap map's feedback, words of at least 12 px on every map, and plan
step numbers that never cover each other. axe-core checks the pages in both themes."""

from __future__ import annotations

import itertools
from typing import Any, Literal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.web.conftest import PageAt, Screenshot, open_start_groups
from tests.webserver import Server, module_server

PHONE = (360, 780)
DESKTOP = (1280, 800)
TWO_SCREENS = 2 * PHONE[1]  # "Start" must begin within this many px of the page's top
Theme = Literal["light", "dark"]

# Every visible word on the page's maps: its rendered font size (the SVG's font size times the
# scale the SVG is drawn at) and its text.
MAP_WORDS = """() => [...document.querySelectorAll('.map svg')].flatMap(svg => {
  const box = svg.getBoundingClientRect();
  if (!box.width) return [];
  const scale = box.width / svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll('text')]
    .filter(t => t.getBoundingClientRect().height > 0 && getComputedStyle(t).display !== 'none'
      && getComputedStyle(t).visibility !== 'hidden')
    .map(t => [parseFloat(getComputedStyle(t).fontSize) * scale, t.textContent]);
}).concat([...document.querySelectorAll('.map-sides')]  // the live map's sides, laid over it
  .filter(p => p.getBoundingClientRect().height > 0)
  .map(p => [parseFloat(getComputedStyle(p).fontSize), p.textContent]))"""


def violations(page: Page) -> list[str]:
    found: list[dict[str, Any]] = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['nodes'][0]['target']}" for v in found]


def small_words(page: Page) -> list[str]:
    words: list[list[Any]] = page.evaluate(MAP_WORDS)
    assert words, "no map words measured"
    return [f"{text!r} at {size:.1f} px" for size, text in words if size < 12]


def save_receiver(page: Page, name: str, minutes: str = "20") -> int:
    """Fill the start form as a first-timer and start; the receiver is saved. Their id."""
    page.goto("/")
    open_start_groups(page)
    page.fill("#profile_name", name)
    page.fill("#minutes", minutes)
    page.check('input[name="activities"][value="computer-work"]')
    page.click('#trouble-map [data-region="upper-trapezius-left"]')
    page.click("#start-form button:has-text('See the plan')")
    page.click("#start-session")
    page.wait_for_url("**/session/*")
    profiles: list[dict[str, Any]] = page.evaluate("fetch('/api/profiles').then(r => r.json())")
    return int(next(p["id"] for p in profiles if p["name"] == name))


def test_a_saved_receiver_starts_within_two_screens(
    page_at: PageAt, web_server: Server, screenshot: Screenshot
) -> None:
    page = page_at(PHONE[0], base_url=web_server.url, height=PHONE[1])
    receiver = save_receiver(page, "Quinn")
    page.goto(f"/?receiver={receiver}")
    top = page.evaluate(
        "document.getElementById('start-now').getBoundingClientRect().top + scrollY"
    )
    assert top <= TWO_SCREENS, f"'Start' begins {top:.0f} px down"
    assert page.is_visible("text=Anything changed since last time?")
    # Folded groups, last values inside them.
    assert not page.is_visible("#minutes")
    assert page.is_checked('input[name="activities"][value="computer-work"]')
    assert page.is_checked('input[name="trouble_spots"][value="upper-trapezius-left"]')
    screenshot(page, "start-quick")
    page.check("#changed-no")
    page.click("#start-now")
    page.wait_for_url("**/session/*")


def test_a_yes_opens_the_questions_pre_filled(page_at: PageAt, web_server: Server) -> None:
    page = page_at(PHONE[0], base_url=web_server.url, height=PHONE[1])
    receiver = save_receiver(page, "Rene")
    page.goto(f"/?receiver={receiver}")
    assert not page.is_visible('input[name="yes"][value="bruises-easily"]')
    page.check("#changed-yes")
    assert page.is_visible('input[name="yes"][value="bruises-easily"]')
    page.check('input[name="yes"][value="bruises-easily"]')
    page.click("#start-now")  # shown, so it starts straight away
    page.wait_for_url("**/session/*")
    page.goto(f"/?receiver={receiver}")  # and the new answer is kept for next time
    assert page.is_checked('input[name="yes"][value="bruises-easily"]')


# A server no receiver was ever saved on: the walkthrough opens by itself.
first_visit = module_server("first-visit", speed=20.0)


def test_the_walkthrough_opens_once_and_stays_one_tap_away(
    page_at: PageAt, first_visit: Server
) -> None:
    page = page_at(PHONE[0], base_url=first_visit.url, height=PHONE[1])
    page.goto("/")
    assert page.is_visible("#walkthrough-skip")
    for words in ("The chair", "Your stance", "Warm hands", "Water", "never bend"):
        assert page.is_visible(f"#walkthrough >> text={words}"), words
    # The method's element ids are there, but only inside a details.
    assert not page.is_visible("#walkthrough .method-ids li")
    page.click("#walkthrough-skip")
    assert not page.is_visible("#walkthrough-skip")
    page.reload()
    assert not page.is_visible("#walkthrough-skip"), "skipped, yet shown again"
    page.click("#walkthrough > summary")  # seen again on request
    assert page.is_visible("#walkthrough-done")


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_start_pages_pass_axe_with_everything_open(
    page_at: PageAt,
    first_visit: Server,
    screenshot: Screenshot,
    theme: Theme,
    size: tuple[int, int],
) -> None:
    page = page_at(size[0], base_url=first_visit.url, height=size[1])
    page.emulate_media(color_scheme=theme)
    page.goto("/")
    page.evaluate("document.getElementById('walkthrough').open = true")
    found = {"walkthrough": violations(page)}
    screenshot(page, f"start-walkthrough-{theme}")
    open_start_groups(page)
    page.click('#trouble-map [data-region="spine"]')
    found["groups"] = violations(page)
    screenshot(page, f"start-open-{theme}")
    receiver = save_receiver(page, f"Axe {theme} {size[0]}")
    page.goto(f"/?receiver={receiver}")
    found["quick"] = violations(page)
    screenshot(page, f"start-quick-{theme}")
    page.check("#changed-yes")
    found["quick-questions"] = violations(page)
    assert found == {name: [] for name in found}


def test_the_tap_map_shows_what_was_picked_and_why_bone_cannot_be(
    page_at: PageAt, web_server: Server
) -> None:
    page = page_at(PHONE[0], base_url=web_server.url, height=PHONE[1])
    page.goto("/")
    open_start_groups(page)
    muscle = '#trouble-map [data-region="upper-trapezius-left"] > path'
    fill = "el => getComputedStyle(el).fill"
    before = page.eval_on_selector(muscle, fill)
    page.click('#trouble-map [data-region="upper-trapezius-left"]')
    assert page.is_checked('input[name="trouble_spots"][value="upper-trapezius-left"]')
    assert page.eval_on_selector(muscle, fill) != before, "the picked region kept its colour"
    assert "Picked" in page.text_content("#trouble-map-said")
    page.click('#trouble-map [data-region="upper-trapezius-left"]')
    assert page.eval_on_selector(muscle, fill) == before
    assert "Taken off" in page.text_content("#trouble-map-said")

    page.click('#trouble-map [data-region="spine"]')
    said = page.text_content("#trouble-map-said")
    assert said == "That's the spine: we never press on bone; pick the muscle beside it."
    assert page.locator('input[name="trouble_spots"]:checked').count() == 0
    page.click('#trouble-map [data-region="kidney-left"]')
    assert "kidney area" in page.text_content("#trouble-map-said")


def test_no_map_word_is_under_12_px_at_360_wide(page_at: PageAt, web_server: Server) -> None:
    page = page_at(PHONE[0], base_url=web_server.url, height=PHONE[1])
    found: dict[str, list[str]] = {}
    page.goto("/")
    open_start_groups(page)
    found["start"] = small_words(page)
    save_receiver(page, "Sizes")
    page.wait_for_selector("#live[data-live]", state="attached")
    found["live"] = small_words(page)
    live = page.url.split("?")[0]
    page.goto(f"{live}/plan")
    found["printable plan"] = small_words(page)
    page.goto(live)
    page.click("#stop")
    page.click("#stop-confirm")
    page.wait_for_url("**/summary", timeout=15_000)
    found["summary"] = small_words(page)
    receiver = page.get_attribute('main a.button[href^="/profiles/"]', "href")
    assert receiver
    page.goto(receiver)
    found["receiver"] = small_words(page)
    page.goto("/")
    open_start_groups(page)
    page.fill("#profile_name", "")
    page.click("#start-form button:has-text('See the plan')")
    page.wait_for_selector(".plan-map")
    found["plan"] = small_words(page)
    assert found == {name: [] for name in found}


@pytest.mark.parametrize("minutes", ["20", "60"])
def test_the_plan_map_step_numbers_never_overlap(
    page_at: PageAt, web_server: Server, screenshot: Screenshot, minutes: str
) -> None:
    page = page_at(PHONE[0], base_url=web_server.url, height=PHONE[1])
    page.goto("/")
    open_start_groups(page)
    page.fill("#minutes", minutes)
    page.click("#start-form button:has-text('See the plan')")
    page.wait_for_selector(".plan-map")
    boxes: list[dict[str, float]] = page.eval_on_selector_all(
        ".plan-map .step-marker circle",
        "discs => discs.map(d => { const b = d.getBoundingClientRect();"
        " return {left: b.left, top: b.top, right: b.right, bottom: b.bottom}; })",
    )
    steps = page.locator(".plan-steps tbody tr").count()
    assert len(boxes) == steps > 10
    # Discs are round: two overlap when their centres are closer than their radii together.
    overlapping = []
    for (i, a), (j, b) in itertools.combinations(enumerate(boxes, start=1), 2):
        ax, ay = (a["left"] + a["right"]) / 2, (a["top"] + a["bottom"]) / 2
        bx, by = (b["left"] + b["right"]) / 2, (b["top"] + b["bottom"]) / 2
        reach = (a["right"] - a["left"] + b["right"] - b["left"]) / 2
        if ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 < reach:
            overlapping.append((i, j))
    assert overlapping == []
    # The numbers themselves (their text boxes) never touch either.
    numbers: list[dict[str, float]] = page.eval_on_selector_all(
        ".plan-map .step-marker text",
        "texts => texts.map(t => { const b = t.getBoundingClientRect();"
        " return {left: b.left, top: b.top, right: b.right, bottom: b.bottom}; })",
    )
    touching = [
        (i, j)
        for (i, a), (j, b) in itertools.combinations(enumerate(numbers, start=1), 2)
        if a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    ]
    assert touching == []
    page.locator(".plan-map").scroll_into_view_if_needed()
    screenshot(page, f"plan-map-{minutes}", full_page=False)
