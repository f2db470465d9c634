"""Hosted mode in a real browser: sign up with the form, plan, start, send feedback (live.js
sends the log-in's CSRF token), see the account page, log out, and be sent to the log-in page."""

from __future__ import annotations

import re
import uuid

from tests.hosted_helpers import HOSTED_ENV
from tests.web.conftest import AssertLocal, PageAt, Screenshot, open_start_groups
from tests.webserver import Server, module_server

PHONE = 360  # the narrowest phone the app is made for


hosted = module_server("hosted-browser", "--hosted", speed=20.0, env=HOSTED_ENV)


def test_sign_up_plan_and_give_feedback_in_hosted_mode(
    hosted: Server, page_at: PageAt, screenshot: Screenshot, assert_local: AssertLocal
) -> None:
    page = page_at(PHONE, base_url=hosted.url)
    page.goto("/history")
    page.wait_for_url(re.compile(r".*/login\?next=/history$"))
    page.click("text=Sign up")
    page.wait_for_url("**/signup")
    email = f"browser-{uuid.uuid4().hex[:8]}@example.org"
    page.fill("#email", email)
    page.fill("#password", "short")
    page.fill("#password_again", "short")
    page.click("#sign-up")
    page.wait_for_selector("#password-error")
    assert "at least 10 characters" in (page.text_content("#password-error") or "")
    page.fill("#password", "a long enough pass phrase")
    page.fill("#password_again", "a long enough pass phrase")
    screenshot(page, "signup")
    page.click("#sign-up")
    page.wait_for_selector("#start-form")
    assert page.get_attribute('meta[name="csrf-token"]', "content")

    # Plan and start: the forms carry the CSRF token field.
    open_start_groups(page)
    page.fill("#profile_name", "Sam")
    page.fill("#minutes", "10")
    page.click("text=See the plan")
    page.wait_for_selector("#outcome-heading")
    page.click("#start-session")
    page.wait_for_url(re.compile(r".*/session/[0-9a-f]{32}$"))
    page.wait_for_selector("#live[data-live]", state="attached")

    # live.js sends the feedback with the X-CSRF-Token header: the server takes it.
    page.click('.dock [data-event="more"]')
    page.wait_for_selector("#ack:has-text('Sent: More pressure')")

    page.goto("/account")
    assert email in (page.text_content("#account-email") or "")
    screenshot(page, "account")
    # One-handed on a 360 px phone: nothing scrolls sideways, and the links sit on one row
    # beside the name (with the account link, the header's widest state).
    assert page.evaluate("document.documentElement.scrollWidth") == PHONE
    middles = page.evaluate(
        "[...document.querySelectorAll('header.top a')].map(a => {"
        " const r = a.getBoundingClientRect(); return Math.round(r.top + r.height / 2); })"
    )
    assert len(middles) == 4 and len(set(middles)) == 1, middles
    page.click("#log-out")
    page.wait_for_url("**/login?out=1")
    page.goto("/history")
    page.wait_for_url(re.compile(r".*/login\?next=/history$"))
    assert_local(page)
