"""The Wi-Fi drops during a session: the giver's page goes on, says it is offline and how many
presses wait, and once the network is back sends them in order, each logged on the session
clock when it was pressed (the device's time), not when it arrived."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, Response, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from backrub.session import Event, EventKind
from backrub.store import Store
from tests.web.conftest import PageAt, Screenshot
from tests.webserver import Server, module_server, start_session

WIDTH, HEIGHT = 360, 780
SPEED = 5.0  # the session clock runs 5 times fast: 2 s offline are 10 session seconds
OFFLINE_MS = 2000
WAIT = 10.0  # seconds a test waits for the page to do something before giving up


server = module_server("offline-queue", speed=SPEED)


def feedback(server: Server, session: str) -> list[Event]:
    store = Store.open(server.database_url)
    try:
        return [e for e in store.events(session) if e.kind in (EventKind.MORE, EventKind.LESS)]
    finally:
        store.close()


def violations(page: Page) -> list[str]:
    found: list[dict[str, Any]] = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['nodes'][0]['target']}" for v in found]


def kept_in_cache(page: Page) -> list[str]:
    """The paths the service worker's caches hold."""
    paths: list[str] = page.evaluate(
        """async () => {
          const found = [];
          for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) {
              found.push(new URL(request.url).pathname);
            }
          }
          return found;
        }"""
    )
    return paths


def sessions_kept(page: Page) -> list[str]:
    """The session pages the caches hold."""
    return [path for path in kept_in_cache(page) if path.startswith("/session/")]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_presses_made_offline_wait_and_reach_the_server_in_order_with_their_times(
    server: Server, page_at: PageAt, screenshot: Screenshot, theme: str
) -> None:
    with server.client() as client:
        session = start_session(client, minutes=30)["id"]
    page = page_at(WIDTH, height=HEIGHT, base_url=server.url)
    page.emulate_media(color_scheme=theme)
    page.goto(f"/session/{session}")
    page.wait_for_selector("#live[data-live]", state="attached")
    # The service worker takes the page over and keeps its shell for a reload without Wi-Fi.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    shell = ["/static/live.js", "/static/stream.js", "/static/live.css", f"/session/{session}"]
    page.wait_for_function(
        f"""async () => {{
          const found = new Set();
          for (const name of await caches.keys()) {{
            for (const request of await (await caches.open(name)).keys()) {{
              found.add(new URL(request.url).pathname);
            }}
          }}
          return {shell!r}.every((path) => found.has(path));
        }}"""
    )
    assert "/api/sessions/" not in " ".join(kept_in_cache(page)).replace("/map.svg", "")

    # Chromium reads the manifest without a complaint and finds the app installable.
    cdp = page.context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [], manifest["errors"]
    found = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # A test browser's context is incognito, where nothing installs; no other reason is left.
    assert [error["errorId"] for error in found] in ([], ["in-incognito"]), found

    replies: list[Response] = []
    page.on(
        "response",
        lambda r: replies.append(r) if r.request.method == "POST" and "/events" in r.url else None,
    )
    page.context.set_offline(True)
    offline = page.locator("#offline")
    expect(offline).to_be_visible()
    expect(offline).to_contain_text("Offline")

    page.click('.dock button[data-event="more"]')
    expect(offline).to_have_attribute("data-waiting", "1")
    expect(offline).to_contain_text("1 press waits")
    page.click('.dock button[data-event="less"]')
    expect(offline).to_have_attribute("data-waiting", "2")
    expect(offline).to_contain_text("2 presses wait")
    assert offline.bounding_box() is not None
    assert violations(page) == []
    screenshot(page, f"live-offline-{theme}", full_page=False)
    page.wait_for_timeout(OFFLINE_MS)  # the Wi-Fi stays away a while: the session goes on
    assert feedback(server, session) == []

    page.context.set_offline(False)
    expect(page.locator("#ack")).to_contain_text("Sent now: Less pressure", timeout=15_000)
    expect(offline).to_be_hidden()
    more, less = feedback(server, session)
    assert (more.kind, less.kind) == (EventKind.MORE, EventKind.LESS)
    # Each was sent with the device's time of the press, and logged then: before the clock
    # the server's reply showed by about the time the network was away.
    bodies = [reply.request.post_data_json for reply in replies if reply.ok]
    assert [body["kind"] for body in bodies] == ["more", "less"]
    assert bodies[0]["device_time"] <= bodies[1]["device_time"]
    assert all(body["device_now"] - body["device_time"] >= OFFLINE_MS for body in bodies)
    with server.client() as client:
        clock_after = client.get(f"/api/sessions/{session}").json()["clock"]
    assert more.at <= less.at
    assert clock_after - less.at >= OFFLINE_MS / 1000 * SPEED * 0.8


def test_a_finished_session_leaves_no_copy_of_its_page_on_the_device(
    server: Server, page_at: PageAt
) -> None:
    with server.client() as client:
        session = start_session(client, minutes=30)["id"]
    page = page_at(WIDTH, height=HEIGHT, base_url=server.url)
    page.goto(f"/session/{session}")
    page.wait_for_selector("#live[data-live]", state="attached")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.wait_for_function(
        """async () => Boolean(await (await caches.open("backrub-pages-1")).match(location.href))"""
    )
    with server.client() as client:
        stopped = client.post(f"/api/sessions/{session}/events", json={"kind": "stop"})
    assert stopped.status_code == 200, stopped.text
    # The page sees the end, and its copies of the session (the plan of a person) are gone.
    page.wait_for_selector("#over:not([hidden])")
    # The caches are the origin's, so they are read from a second page of the same browser, one
    # that stays where it is: the live page moves on to the summary a few seconds after the end,
    # and a question asked of it as it leaves fails with it ("execution context was destroyed").
    watcher = page.context.new_page()
    watcher.goto("/")
    try:
        watcher.wait_for_function(
            """async () => {
              for (const name of await caches.keys()) {
                for (const request of await (await caches.open(name)).keys()) {
                  if (new URL(request.url).pathname.startsWith("/session/")) return false;
                }
              }
              return true;
            }""",
            timeout=WAIT * 1000,
        )
    except PlaywrightTimeoutError:
        raise AssertionError(f"still kept after the end: {sessions_kept(watcher)}") from None
