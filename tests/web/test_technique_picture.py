"""The live page on a phone shows the step's technique picture beside the cue, and how firm the
pressure is in everyday words beside the bars; both follow the step as it changes."""

from __future__ import annotations

from tests.web.conftest import AssertLocal, PageAt, Screenshot
from tests.webserver import Server, start_session

PHONE = 360
PHONE_HEIGHT = 780


def test_the_live_page_shows_the_technique_picture_beside_the_cue(
    web_server: Server, page_at: PageAt, screenshot: Screenshot, assert_local: AssertLocal
) -> None:
    with web_server.client() as client:
        session = start_session(client)["id"]
        step = client.get(f"/api/sessions/{session}").json()["step"]
    page = page_at(PHONE, base_url=web_server.url, height=PHONE_HEIGHT)
    page.goto(f"/session/{session}")
    page.wait_for_selector("#live[data-live]", state="attached")

    picture = page.locator("#picture")
    assert picture.is_visible()
    assert picture.get_attribute("src") == step["picture"]
    assert picture.get_attribute("alt") == step["picture_caption"]
    # Loaded and drawn (an SVG the browser could not read has no natural width).
    page.wait_for_function("() => document.querySelector('#picture').naturalWidth > 0")
    box, cue = picture.bounding_box(), page.locator("#cue").bounding_box()
    assert box is not None and cue is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE
    assert box["y"] < cue["y"] + cue["height"] and cue["y"] < box["y"] + box["height"]
    assert box["y"] + box["height"] <= PHONE_HEIGHT  # on the first screen
    like = page.text_content("#pressure-like") or ""
    assert like == f"like {step['pressure_like']}"
    screenshot(page, "live-technique-picture", full_page=False)

    # The next step's picture replaces it, from the live state alone.
    with web_server.client() as client:
        reply = client.post(f"/api/sessions/{session}/events", json={"kind": "skip"})
        assert reply.status_code == 200, reply.text
        following = reply.json()["step"]
    assert following["picture"] != step["picture"]
    page.wait_for_function(
        "src => document.querySelector('#picture').getAttribute('src') === src",
        arg=following["picture"],
    )
    page.wait_for_function("() => document.querySelector('#picture').naturalWidth > 0")
    like = page.text_content("#pressure-like") or ""
    assert like == f"like {following['pressure_like']}"
    assert_local(page)
