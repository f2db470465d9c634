"""The start, plan and review pages speak plain words (issue 11): no internal codes in what a
person reads, minutes as "20", our own message for minutes out of range, every answer kept when
going back from the plan, and the orders explained.

Pages are read from a real `backrub serve` as a browser gets them; the browser-only checks (the
steps table at 360 px, axe) are in tests/web/test_plain_pages_browser.py.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.webserver import Server

# What a step id ("lower-back.latissimus.left") and a region id ("latissimus-right") look like;
# and a method element ("U6", "B2"), alone or in a list "(U6, U7)". The element letters are the
# method's parts (METHOD.md), so "A4" paper is not one.
STEP_ID = re.compile(r"\b[a-z]+(?:-[a-z]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*){1,}\b")
REGION_ID = re.compile(r"\b[a-z]+(?:-[a-z]+)*-(?:left|right)\b")
ELEMENT_ID = re.compile(r"\b[BCGLNOSUX]\d{1,2}\b")

ANSWERS: list[tuple[str, str]] = [
    ("profile_name", "Robin"),
    ("minutes", "25"),
    ("pressure", "2"),
    ("order", "problem-first"),
    ("routine", "classic"),
    ("activities", "computer-work"),
    ("activities", "knitting"),
    ("trouble_spots", "upper-trapezius-left"),
    ("trouble_spots", "middle-trapezius-right"),
    ("yes", "bruises-easily"),
    ("local_kind", "bruise"),
    ("local_region", "latissimus-right"),
    ("local_kind", "sunburn"),
    ("local_region", "paraspinal-lower-left"),
    ("local_kind", ""),
    ("local_region", ""),
]


def visible_text(html: str) -> str:
    """What a person reads without opening anything: no scripts, styles or <details> bodies,
    tags dropped (their attributes are not read), entities decoded, white space collapsed."""
    shown = re.sub(r"(?is)<(script|style|details|title)\b.*?</\1>", " ", html)
    shown = re.sub(r"(?s)<!--.*?-->", " ", shown)
    shown = re.sub(r"<[^>]+>", " ", shown)
    return re.sub(r"\s+", " ", unescape(shown)).strip()


def codes_in(html: str) -> list[str]:
    text = visible_text(html)
    return [m.group(0) for p in (STEP_ID, REGION_ID, ELEMENT_ID) for m in p.finditer(text)]


def post_form(
    client: httpx.Client, url: str, pairs: list[tuple[str, str]], **options: Any
) -> httpx.Response:
    """A form post with repeated names, in order, as a browser sends it."""
    return client.post(
        url,
        content=urlencode(pairs),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        **options,
    )


def selected(html: str, select_id: str) -> str | None:
    found = re.search(rf'<select id="{select_id}".*?</select>', html, re.S)
    assert found, f"no select {select_id}"
    option = re.search(r'<option value="([^"]*)" selected', found.group(0))
    return option.group(1) if option else None


@pytest.fixture
def client(web_server: Server) -> Any:
    with web_server.client() as http:
        yield http


def test_no_page_of_a_sessions_life_shows_internal_codes(client: httpx.Client) -> None:
    pages: dict[str, str] = {"start": client.get("/").text}
    preview = post_form(client, "/plan", ANSWERS)
    assert preview.status_code == 200, preview.text
    pages["plan"] = preview.text
    started = post_form(client, "/session", ANSWERS, follow_redirects=False)
    assert started.status_code == 303, started.text
    session = started.headers["location"]
    pages["live"] = client.get(session).text
    session_id = session.rsplit("/", 1)[-1]
    client.post(f"/api/sessions/{session_id}/events", json={"kind": "pain"})
    client.post(f"/api/sessions/{session_id}/events", json={"kind": "stop"})
    profile = client.get(f"/api/sessions/{session_id}/summary").json()["session"]["profile_id"]
    pages["summary"] = client.get(f"{session}/summary").text
    pages["history"] = client.get("/history").text
    pages["profile"] = client.get(f"/profiles/{profile}").text
    pages["print"] = client.get(f"{session}/plan").text
    for name, html in pages.items():
        assert codes_in(html) == [], name
    # The method elements are still there for those who want them, tucked away.
    for name in ("plan", "print"):
        assert re.search(r"<details[^>]*>\s*<summary>[^<]*</summary>[^<]*\bB2\b", pages[name])
    assert "Knead the broad muscle at the side of the lower back" in pages["print"]
    assert "Order Sore spots first" in visible_text(pages["profile"])  # its saved choices


def test_minutes_show_as_whole_numbers(client: httpx.Client) -> None:
    assert 'name="minutes" value="20"' in client.get("/").text
    plan = client.post("/plan", data={"minutes": "20"}).text
    assert 'name="minutes" value="20"' in plan
    assert "20.0" not in visible_text(plan) and 'value="20.0"' not in plan


@pytest.mark.parametrize("typed", ["200", "4", "-1", "twenty", "nan"])
def test_minutes_out_of_range_get_our_message_next_to_the_field(
    client: httpx.Client, typed: str
) -> None:
    reply = client.post("/plan", data={"minutes": typed})
    assert reply.status_code == 422
    found = re.search(r'<p class="error" id="minutes-error" role="alert">([^<]*)</p>', reply.text)
    assert found, "no message next to the minutes"
    message = unescape(found.group(1))
    assert "between 5 and 90 minutes" in message
    assert "less than" not in message and "greater than" not in message
    assert "Input should" not in reply.text
    assert f'value="{typed}"' in reply.text  # what was typed stays to be corrected


def assert_every_answer_kept(html: str) -> None:
    assert 'id="profile_name" name="profile_name" value="Robin"' in html
    assert 'name="minutes" value="25"' in html
    assert 'name="pressure" value="2" checked' in html
    assert selected(html, "order") == "problem-first"
    assert selected(html, "routine") == "classic"
    for name, value in ANSWERS:
        if name in ("activities", "trouble_spots", "yes"):
            assert f'name="{name}" value="{value}" checked' in html, value
    rows = [
        (selected(html, f"local_kind_{n}"), selected(html, f"local_region_{n}")) for n in range(3)
    ]
    assert ("bruise", "latissimus-right") in rows
    assert ("sunburn", "paraspinal-lower-left") in rows


def go_back(client: httpx.Client, plan_html: str, button_id: str) -> httpx.Response:
    """Press the plan page's button: post its form's fields to the button's formaction."""
    form = plan_html[plan_html.index("<form") : plan_html.index("</form>")]
    button = re.search(rf'<button[^>]*formaction="([^"]+)"[^>]*id="{button_id}"', form)
    assert button, f"no {button_id} button posting the answers"
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    fields = [(name, unescape(value)) for name, value in fields if name != "csrf_token"]
    return post_form(client, button.group(1), fields)


def test_change_the_answers_keeps_every_answer(client: httpx.Client) -> None:
    plan = post_form(client, "/plan", ANSWERS)
    assert plan.status_code == 200 and 'id="start-session"' in plan.text
    back = go_back(client, plan.text, "change-answers")
    assert back.status_code == 200
    assert_every_answer_kept(back.text)


def test_back_to_the_start_keeps_every_answer(client: httpx.Client) -> None:
    plan = post_form(client, "/plan", [*ANSWERS, ("yes", "fever-or-infection")])
    assert 'id="start-session"' not in plan.text  # not today
    assert 'value="fever-or-infection"' in plan.text
    back = go_back(client, plan.text, "back-to-start")
    assert back.status_code == 200
    assert_every_answer_kept(back.text)


def test_the_orders_are_explained_in_plain_words(client: httpx.Client) -> None:
    html = client.get("/").text
    assert 'aria-describedby="order-hint"' in html
    hint = html[html.index('id="order-hint"') :]
    hint = visible_text(hint[: hint.index("</ul>")])
    assert "From the top down" in hint and "unwind" in hint
    assert "Upper back, lower back, then neck" in hint
    assert "Sore spots first" in hint and "trouble spots" in hint
    select = re.search(r'<select id="order".*?</select>', html, re.S)
    assert select and "top-down" not in visible_text(select.group(0))
