"""The dim-room theme (issue 11) in a real browser at 360 x 780 and 1280 x 800: every page (and
every state of the live page and the remote) follows the device's dark setting, the header's
switch overrides it and is remembered, the server's maps keep a light card to stay readable, and
axe-core (colour contrast included) finds nothing in either theme. Each page is saved as a
screenshot in both themes at both sizes (test-artifacts/screenshots/)."""

from __future__ import annotations

import uuid

import pytest

from tests.hosted_helpers import HOSTED_ENV
from tests.web.conftest import PageAt, Screenshot
from tests.web.theme_walk import (
    DESK,
    PHONE,
    Size,
    is_dark,
    is_light,
    luminance,
    violations,
    walk_and_check,
)
from tests.webserver import Server, module_server


# The pages are drawn the same whatever the database (the theme is the stylesheet's and the
# device's): every theme and size is walked on SQLite (the dark device in
# test_dim_room_theme_dark.py), and the walk once more on PostgreSQL, for the pages that read and
# write the store (plan, live, summary, history, the receiver: test_dim_room_theme_postgresql.py).
@pytest.mark.parametrize("web_server", ["sqlite"], indirect=True)
@pytest.mark.parametrize("size", [PHONE, DESK], ids=["phone", "desk"])
def test_every_page_follows_a_light_device_and_passes_axe(
    page_at: PageAt, web_server: Server, screenshot: Screenshot, size: Size
) -> None:
    walk_and_check(page_at, web_server, screenshot, "light", size)


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
