"""The browser harness: Debian's chromium driven by Playwright, every request watched.

Fixtures for any browser test under tests/web:

- `browser`: one headless chromium for the whole test session (defined in tests/conftest.py, so
  browser tests outside tests/web share it: see there why there is only one).
- `page_at(width, base_url=None)`: a fresh page (its own context: no cookies shared with other
  pages) with a viewport `width` px wide. Every request its context makes is recorded, and any
  request for another host is blocked (so a leak cannot reach the network) and fails the test.
- `assert_local(page)`: fail now if the page asked for anything but 127.0.0.1 / localhost
  (data: and blob: URLs are fine). Also checked for every page when the test ends.
- `screenshot(page, name)`: save a PNG to test-artifacts/screenshots/<name>-<width>.png.

"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
NETWORK_SCHEMES = frozenset({"http", "https", "ws", "wss"})
HARMLESS_SCHEMES = frozenset({"data", "blob"})  # made by the page itself, never fetched
TIMEOUT_MS = 10_000
HEIGHT = 800
SCREENSHOT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")

PageAt = Callable[..., Page]
AssertLocal = Callable[[Page], None]
Screenshot = Callable[..., Path]

# Every URL each page's context asked for, in order (pages from `page_at`).
_requests: dict[int, list[str]] = {}


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in HARMLESS_SCHEMES:
        return True
    return parts.scheme in NETWORK_SCHEMES and parts.hostname in LOCAL_HOSTS


def requests_of(page: Page) -> list[str]:
    """Every URL the page (and any popup of it) asked for so far."""
    return list(_requests.get(id(page.context), []))


def assert_local_only(page: Page) -> None:
    seen = requests_of(page)
    outside = [url for url in seen if not is_local(url)]
    assert not outside, f"requests left this machine: {outside} (of {len(seen)} requests)"


def save_screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """test-artifacts/screenshots/<name>-<width>.png, the width being the page's viewport."""
    assert SCREENSHOT_NAME.match(name), f"screenshot names are like 'plan-preview', not {name!r}"
    viewport = page.viewport_size
    assert viewport is not None, "a page from page_at always has a viewport"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{viewport['width']}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def _watch(context: BrowserContext) -> None:
    seen = _requests.setdefault(id(context), [])

    def record(request: Request) -> None:
        seen.append(request.url)

    context.on("request", record)
    context.on("page", lambda page: page.on("websocket", lambda ws: seen.append(ws.url)))
    # Nothing may leave the machine: such a request is recorded above, then never sent.
    context.route(lambda url: not is_local(url), lambda route: route.abort("blockedbyclient"))


@pytest.fixture
def page_at(browser: Browser) -> Iterator[PageAt]:
    """`page_at(360)`: a new page 360 px wide, in its own context, every request recorded."""
    contexts: list[BrowserContext] = []

    def open_page(width: int, *, base_url: str | None = None, height: int = HEIGHT) -> Page:
        context = browser.new_context(
            viewport={"width": width, "height": height}, base_url=base_url
        )
        context.set_default_timeout(TIMEOUT_MS)
        _watch(context)
        contexts.append(context)
        return context.new_page()

    yield open_page
    leaks: list[str] = []
    for context in contexts:
        leaks += [url for url in _requests.pop(id(context), []) if not is_local(url)]
        context.close()
    assert not leaks, f"requests left this machine: {leaks}"


@pytest.fixture
def assert_local() -> AssertLocal:
    return assert_local_only


@pytest.fixture
def screenshot() -> Screenshot:
    return save_screenshot


def open_start_groups(page: Page) -> None:
    """Open every folded group of the start form, as a person taps each summary (issue 11: the
    groups start folded, one line each)."""
    folded = page.locator("#start-form details.group:not([open]) > summary")
    for _ in range(folded.count()):
        folded.first.click()
