"""The dim-room theme's walk through every page (issue 11), shared by the test_dim_room_theme
files: each walk is a test of its own, in files of their own so that pytest-xdist's workers
(given a whole file each) walk them side by side."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.web.conftest import PageAt, Screenshot, open_start_groups
from tests.webserver import Server

Size = tuple[int, int]
PHONE: Size = (360, 780)
DESK: Size = (1280, 800)
Theme = Literal["light", "dark"]


def luminance(css_colour: str) -> float:
    """WCAG relative luminance of a computed 'rgb(r, g, b)' / 'rgba(...)' colour."""
    inside = css_colour[css_colour.index("(") + 1 : css_colour.index(")")]
    channels = [float(part) / 255 for part in inside.replace("/", ",").split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def page_background(page: Page) -> float:
    colour: str = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    return luminance(colour)


def is_dark(page: Page) -> bool:
    return page_background(page) < 0.05


def is_light(page: Page) -> bool:
    return page_background(page) > 0.8


def violations(page: Page) -> list[str]:
    found: list[dict[str, Any]] = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['nodes'][0]['target']}" for v in found]


def walk_every_page(page: Page, visit: Callable[[str], None]) -> None:
    """Every page a giver meets, and the live page's states: start, plan, the printable plan,
    live (the knot and ouch pickers, the voice panel, the stop dialog), the remote (and its ouch
    picker), summary, history, the receiver's page and the page for a missing address:
    `visit(name)` on each."""
    page.goto("/")
    visit("start")
    open_start_groups(page)
    page.fill("#profile_name", "Robin")
    # 20 minutes, a minute of real time on the test server's fast clock: a walk slowed down by
    # a busy machine still finds the session running when it comes to stop it.
    page.fill("#minutes", "20")
    page.check('input[name="activities"][value="computer-work"]')
    page.click("button:has-text('See the plan')")
    page.wait_for_selector("#start-session")
    visit("plan")
    page.click("#start-session")
    page.wait_for_url("**/session/*")
    page.wait_for_selector("#live[data-live]", state="attached")
    visit("live")
    live = page.url.split("?")[0]
    for opener, name in (("#knot-here", "live-knot-picker"), ('[data-event="pain"]', "live-ouch")):
        page.click(opener)
        page.wait_for_selector("#pick-prompt", state="visible")
        visit(name)
        page.click("#pick-cancel")
        page.wait_for_selector("#pick-prompt", state="hidden")
    page.click("#voice-settings summary")
    page.wait_for_selector("#voice-choice", state="visible")
    visit("live-voice-panel")
    page.goto(f"{live}/plan")  # the printable plan of this session
    visit("print")
    page.goto(f"{live}/remote")  # the receiver's remote, on the same session
    page.wait_for_selector("#remote")
    visit("remote")
    page.click('#remote [data-event="pain"]')
    page.wait_for_selector("#remote-pick", state="visible")
    visit("remote-ouch")
    page.click("#remote-pick-cancel")
    page.goto(live)
    page.wait_for_selector("#live[data-live]", state="attached")
    page.click("#stop")
    page.wait_for_selector("#stop-dialog[open]")
    visit("live-stop-dialog")
    page.click("#stop-confirm")
    page.wait_for_url("**/summary", timeout=15_000)
    visit("summary")
    receiver = page.get_attribute('main a.button[href^="/profiles/"]', "href")
    page.goto("/history")
    visit("history")
    assert receiver, "the summary links to no receiver's page"
    page.goto(receiver)
    visit("receiver")
    page.goto("/no-such-page")
    visit("not-found")


def walk_and_check(
    page_at: PageAt, server: Server, screenshot: Screenshot, theme: Theme, size: Size
) -> None:
    """Walk every page on a device in `theme` at `size`: each follows the device, offers the
    switch, and axe finds nothing; each is saved as a screenshot."""
    page = page_at(size[0], base_url=server.url, height=size[1])
    page.emulate_media(color_scheme=theme)
    found: dict[str, list[str]] = {}

    def visit(name: str) -> None:
        page.wait_for_load_state("load")
        if theme == "dark":
            assert is_dark(page), f"the {name} page is not dark on a dark device"
        else:
            assert is_light(page), f"the {name} page is not light on a light device"
        assert page.is_visible("#theme"), f"no theme switch on the {name} page"
        assert page.input_value("#theme") == "auto", f"the {name} page's switch is not on auto"
        found[name] = violations(page)
        screenshot(page, f"{name}-{theme}")

    walk_every_page(page, visit)
    # A helper module's asserts are not rewritten by pytest: the message shows what axe found.
    assert found == {name: [] for name in found}, found
