"""The dim-room theme (issue 11) in a real browser at 360 x 780 and 1280 x 800: every page (and
every state of the live page and the remote) follows the device's dark setting, the header's
switch overrides it and is remembered, the server's maps keep a light card to stay readable, and
axe-core (colour contrast included) finds nothing in either theme. Each page is saved as a
screenshot in both themes at both sizes (test-artifacts/screenshots/)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Literal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.hosted_helpers import HOSTED_ENV
from tests.web.conftest import PageAt, Screenshot, open_start_groups
from tests.webserver import Server, module_server

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
    assert receiver
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
        assert page.input_value("#theme") == "auto"
        found[name] = violations(page)
        screenshot(page, f"{name}-{theme}")

    walk_every_page(page, visit)
    assert found == {name: [] for name in found}


# The pages are drawn the same whatever the database (the theme is the stylesheet's and the
# device's): every theme and size is walked on SQLite, and the walk once more on PostgreSQL,
# for the pages that read and write the store (plan, live, summary, history, the receiver).
@pytest.mark.parametrize("web_server", ["sqlite"], indirect=True)
@pytest.mark.parametrize("size", [PHONE, DESK], ids=["phone", "desk"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_follows_the_device_and_passes_axe(
    page_at: PageAt, web_server: Server, screenshot: Screenshot, theme: Theme, size: Size
) -> None:
    walk_and_check(page_at, web_server, screenshot, theme, size)


@pytest.mark.parametrize("web_server", ["postgresql"], indirect=True)
def test_every_page_on_postgresql_follows_the_device_and_passes_axe(
    page_at: PageAt, web_server: Server, screenshot: Screenshot
) -> None:
    walk_and_check(page_at, web_server, screenshot, "dark", PHONE)


@pytest.mark.parametrize("web_server", ["sqlite"], indirect=True)
def test_the_maps_keep_a_light_card_in_the_dark(page_at: PageAt, web_server: Server) -> None:
    page = page_at(PHONE[0], base_url=web_server.url, height=PHONE[1])
    page.emulate_media(color_scheme="dark")
    page.goto("/")
    card: str = page.evaluate(
        "getComputedStyle(document.querySelector('.map svg')).backgroundColor"
    )
    assert luminance(card) > 0.8, "the start page's tap map lost its light backing"


@pytest.mark.parametrize("web_server", ["sqlite"], indirect=True)
def test_the_switch_overrides_the_device_and_is_remembered(
    page_at: PageAt, web_server: Server
) -> None:
    page = page_at(PHONE[0], base_url=web_server.url, height=PHONE[1])
    page.emulate_media(color_scheme="light")
    page.goto("/")
    # Set before first paint: a plain blocking script in <head>, not a module or deferred one.
    assert (
        page.locator(
            'head script[src^="/static/theme.js"]:not([defer]):not([async]):not([type="module"])'
        ).count()
        == 1
    )
    assert is_light(page)

    page.select_option("#theme", "dark")
    assert page.get_attribute("html", "data-theme") == "dark"
    assert is_dark(page)

    page.goto("/history")  # another page, the choice still holds
    assert is_dark(page)
    assert page.input_value("#theme") == "dark"
    page.reload()
    assert is_dark(page)

    page.emulate_media(color_scheme="dark")
    page.select_option("#theme", "light")  # light in a dark device
    assert is_light(page)
    page.reload()
    assert is_light(page)
    assert page.input_value("#theme") == "light"

    page.select_option("#theme", "auto")  # back to following the device
    assert page.get_attribute("html", "data-theme") is None
    assert is_dark(page)
    page.reload()
    assert is_dark(page)
    assert page.evaluate("localStorage.getItem('backrub-theme')") is None


hosted = module_server("hosted-theme", "--hosted", env=HOSTED_ENV)


def test_the_hosted_pages_are_dark_and_pass_axe(
    page_at: PageAt, hosted: Server, screenshot: Screenshot
) -> None:
    page = page_at(PHONE[0], base_url=hosted.url, height=PHONE[1])
    page.emulate_media(color_scheme="dark")
    found: dict[str, list[str]] = {}

    def visit(name: str) -> None:
        assert is_dark(page), f"the {name} page is not dark on a dark device"
        assert page.is_visible("#theme"), f"no theme switch on the {name} page"
        found[name] = violations(page)
        screenshot(page, f"{name}-dark")

    page.goto("/login")
    visit("login")
    page.goto("/signup")
    page.fill("#email", f"theme-{uuid.uuid4().hex[:8]}@example.org")
    page.fill("#password", "short")
    page.fill("#password_again", "short")
    page.click("#sign-up")
    page.wait_for_selector("#password-error")
    visit("signup-error")
    page.fill("#password", "a long enough pass phrase")
    page.fill("#password_again", "a long enough pass phrase")
    page.click("#sign-up")
    page.wait_for_selector("#start-form")
    page.goto("/account")
    visit("account")
    assert found == {name: [] for name in found}
