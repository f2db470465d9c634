"""The plan and live pages at phone width, checked by axe-core (a tool no one here wrote) and by
where the plan's steps table ends up (issue 11): the table is not cut off at 360 px, its scroll
box can take focus, and no two landmarks share a name."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.web.conftest import PageAt, Screenshot, open_start_groups
from tests.webserver import Server

PHONE = (360, 780)
DESKTOP = (1280, 800)


def violations(page: Page) -> list[str]:
    """axe's violations on the page as it stands: 'rule-id: first offending element'."""
    found: list[dict[str, Any]] = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['nodes'][0]['target']}" for v in found]


def to_the_plan(page: Page) -> None:
    page.goto("/")
    open_start_groups(page)
    page.fill("#profile_name", "Robin")
    page.fill("#minutes", "20")
    page.check('input[name="activities"][value="computer-work"]')
    page.select_option("#local_kind_0", "bruise")
    page.select_option("#local_region_0", "latissimus-right")
    page.click("button:has-text('See the plan')")
    page.wait_for_selector("#start-session")


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_plan_table_is_whole_and_its_scroll_box_takes_focus(
    page_at: PageAt, web_server: Server, screenshot: Screenshot, size: tuple[int, int]
) -> None:
    width, height = size
    page = page_at(width, base_url=web_server.url, height=height)
    to_the_plan(page)
    box = page.locator(".table-wrap")
    assert box.get_attribute("tabindex") == "0"
    assert box.get_attribute("aria-label")
    right = page.evaluate(
        "() => [document.documentElement.scrollWidth,"
        " document.querySelector('.plan-steps').getBoundingClientRect().right,"
        " document.querySelector('.table-wrap').getBoundingClientRect().right]"
    )
    page_width, table_right, box_right = right
    assert page_width <= width, "the page scrolls sideways"
    assert box_right <= width, "the steps table's box runs off the screen"
    assert table_right <= box_right + 0.5, "the steps table is wider than its box"
    box.focus()
    assert page.evaluate("document.activeElement.classList.contains('table-wrap')")
    assert violations(page) == []
    screenshot(page, "plan-plain")


def test_the_live_page_has_no_two_landmarks_with_one_name(
    page_at: PageAt, web_server: Server
) -> None:
    page = page_at(PHONE[0], base_url=web_server.url, height=PHONE[1])
    to_the_plan(page)
    page.click("#start-session")
    page.wait_for_url("**/session/*")
    page.wait_for_selector("#status")
    assert violations(page) == []
