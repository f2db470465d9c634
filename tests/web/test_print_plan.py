"""The printable plan on paper: chromium's print to PDF puts a 20-minute plan, with the set-up,
each step's how-to and its technique picture, on two A4 pages; on screen it passes axe in
both themes at phone size."""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.web.conftest import SCREENSHOTS, PageAt, Screenshot
from tests.webserver import Server, module_server, start_session

PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")  # a page, not the /Pages tree
A4_WIDTH = 794  # CSS px at 96 per inch: 210 mm


server = module_server("print")


@pytest.fixture(scope="module")
def session(server: Server) -> str:
    with server.client() as client:
        found: str = start_session(client, minutes=20)["id"]
    return found


def violations(page: Page) -> list[str]:
    found: list[dict[str, Any]] = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['nodes'][0]['target']}" for v in found]


def test_a_20_minute_plan_prints_on_two_a4_pages_with_every_picture(
    server: Server, session: str, page_at: PageAt
) -> None:
    page = page_at(A4_WIDTH, base_url=server.url)
    page.goto(f"/session/{session}/plan")
    pictures = page.locator(".printed-step img.step-picture")
    assert pictures.count() > 5
    loaded = page.evaluate(
        "[...document.querySelectorAll('img.step-picture')]"
        ".every((img) => img.complete && img.naturalWidth > 0)"
    )
    assert loaded, "a technique picture did not load"
    pdf = page.pdf(format="A4")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "print-plan-20-min.pdf").write_bytes(pdf)
    # The paper as it looks: the print stylesheet at A4's width, for a person to check.
    page.emulate_media(media="print")
    assert page.locator("#print").is_hidden()  # no buttons on paper
    page.screenshot(path=str(SCREENSHOTS / "print-plan-paper.png"), full_page=True)
    pages = len(PAGE_OBJECT.findall(pdf))
    assert 1 <= pages <= 2, f"the 20-minute plan prints on {pages} A4 pages"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_printable_plan_on_a_phone_passes_axe(
    server: Server, session: str, page_at: PageAt, screenshot: Screenshot, theme: str
) -> None:
    page = page_at(360, height=780, base_url=server.url)
    page.emulate_media(color_scheme=theme)
    page.goto(f"/session/{session}/plan")
    assert page.get_by_role("heading", name="Before you start").is_visible()
    assert violations(page) == []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px"
    screenshot(page, f"print-plan-{theme}")
    page.locator(".printed-step").nth(1).scroll_into_view_if_needed()
    screenshot(page, f"print-plan-steps-{theme}", full_page=False)
