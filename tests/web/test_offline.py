"""The app works offline: a phone-sized and a desktop-sized browser load nothing from elsewhere.

The start page and the plan preview (the start form submitted) are opened at 360 px and at
1280 px; each is saved as a screenshot in test-artifacts/screenshots/.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, Response, expect

from tests.web.conftest import AssertLocal, PageAt, Screenshot
from tests.webserver import Server

WIDTHS = (360, 1280)


def assert_policy(response: Response | None) -> None:
    assert response is not None
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in policy
    assert "connect-src 'self'" in policy


def console_errors(page: Page) -> list[str]:
    """Errors the page logs from now on: a resource the policy blocked shows up here."""
    errors: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", record)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.mark.parametrize("width", WIDTHS)
def test_start_page_and_plan_preview_stay_on_this_machine(
    web_server: Server,
    page_at: PageAt,
    screenshot: Screenshot,
    assert_local: AssertLocal,
    width: int,
) -> None:
    page = page_at(width, base_url=web_server.url)
    errors = console_errors(page)

    assert_policy(page.goto("/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Plan a back rub")
    screenshot(page, "start")

    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="See the plan").click()
    assert_policy(navigation.value)
    assert navigation.value.status == 200
    expect(page).to_have_url(f"{web_server.url}/plan")
    expect(page.get_by_role("heading", level=1)).to_contain_text("The plan")
    expect(page.get_by_role("button", name="Start the session")).to_be_visible()
    screenshot(page, "plan-preview")

    assert_local(page)
    assert errors == []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px at {width} px"
