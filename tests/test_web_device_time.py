"""A press kept while the device was offline, sent later with the device's clock: the server
logs it when it was made, within bounds (never before what the session has applied, never in
the future), and refuses a device time too far off with a 422 naming `device_time`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from backrub.session import Event, EventKind
from backrub.store import Store
from backrub.web.device_time import FUTURE_SLACK, MAX_AGE
from tests.webserver import Server, module_server, start_session

SPEED = 20.0  # the web_server fixture's clock speed-up
# A device whose clock is an hour wrong: with device_now sent, the age is still right.
WRONG_CLOCK_MS = -3_600_000
IDLE = 1.0  # wall seconds nobody looks at the session: its engine does not run meanwhile


@pytest.fixture
def client(web_server: Server) -> Iterator[httpx.Client]:
    with web_server.client() as http:
        yield http


@pytest.fixture
def store(web_server: Server) -> Iterator[Store]:
    opened = Store.open(web_server.database_url)
    yield opened
    opened.close()


def device_ms() -> float:
    return time.time() * 1000 + WRONG_CLOCK_MS


def press(client: httpx.Client, session: str, **event: Any) -> httpx.Response:
    return client.post(f"/api/sessions/{session}/events", json=event)


def now_clock(client: httpx.Client, session: str) -> float:
    clock: float = client.get(f"/api/sessions/{session}").json()["clock"]
    return clock


def feedback(store: Store, session: str) -> list[Event]:
    """The logged events a person made (no save points)."""
    return [e for e in store.events(session) if e.kind not in (EventKind.TICK, EventKind.END)]


def test_a_kept_press_is_logged_when_it_was_made(
    client: httpx.Client, store: Store, web_server: Server
) -> None:
    session = start_session(client)["id"]
    time.sleep(IDLE)  # the session's clock runs on the server; nobody looks at it
    now = device_ms()
    reply = press(client, session, kind="more", device_time=now - 500, device_now=now)
    assert reply.status_code == 200, reply.text
    [logged] = feedback(store, session)
    assert logged.kind is EventKind.MORE
    assert reply.json()["clock"] == round(logged.at, 2)  # the session just after the press
    # Half a wall second before it was sent, on a clock running 20 times fast: 10 s earlier
    # than the session's clock now (plus the moment the requests took).
    behind = now_clock(client, session) - logged.at
    assert behind >= 0.5 * SPEED - 0.5, behind
    # ...and no earlier than that: the session had run IDLE seconds before the press was sent.
    assert logged.at >= (IDLE - 0.5) * SPEED - 0.5, logged.at


def test_a_press_without_a_device_time_is_logged_now(client: httpx.Client, store: Store) -> None:
    session = start_session(client)["id"]
    time.sleep(IDLE)
    reply = press(client, session, kind="more")
    assert reply.status_code == 200, reply.text
    [logged] = feedback(store, session)
    assert reply.json()["clock"] - logged.at < 1.0


def test_a_kept_press_is_never_logged_before_the_last_event(
    client: httpx.Client, store: Store
) -> None:
    session = start_session(client)["id"]
    time.sleep(IDLE)
    assert press(client, session, kind="less").status_code == 200
    # Made five minutes ago by the device's clock, long before "less" was logged.
    now = device_ms()
    reply = press(client, session, kind="more", device_time=now - 300_000, device_now=now)
    assert reply.status_code == 200, reply.text
    less, more = feedback(store, session)
    assert (less.kind, more.kind) == (EventKind.LESS, EventKind.MORE)
    assert less.at <= more.at <= reply.json()["clock"] + 0.01  # the reply's clock is rounded
    assert more.at - less.at < 1.0  # clamped to the last event, not merely after it


def test_a_press_a_moment_in_the_future_is_logged_now(client: httpx.Client, store: Store) -> None:
    session = start_session(client)["id"]
    now = device_ms()
    ahead = (FUTURE_SLACK - 2) * 1000
    reply = press(client, session, kind="more", device_time=now + ahead, device_now=now)
    assert reply.status_code == 200, reply.text
    [logged] = feedback(store, session)
    assert abs(reply.json()["clock"] - logged.at) < 0.5  # now: the reply's clock is rounded


def test_without_device_now_the_age_is_measured_by_the_servers_clock(
    client: httpx.Client, store: Store
) -> None:
    session = start_session(client)["id"]
    time.sleep(IDLE)
    reply = press(client, session, kind="more", device_time=time.time() * 1000 - 500)
    assert reply.status_code == 200, reply.text
    [logged] = feedback(store, session)
    assert now_clock(client, session) - logged.at >= 0.5 * SPEED - 0.5


@pytest.mark.parametrize(
    ("times", "words"),
    [
        ({"device_time": 60_000, "device_now": 0}, "future"),
        ({"device_time": 0, "device_now": (MAX_AGE + 60) * 1000}, f"up to {MAX_AGE:.0f} s late"),
        # Seconds since 1970 where milliseconds are expected: 55 years ago by the server.
        ({"device_time": time.time()}, "milliseconds since 1970"),
        ({"device_now": 1_000}, "device_now is sent with device_time"),
    ],
)
def test_a_device_time_far_off_is_refused_and_nothing_is_logged(
    client: httpx.Client, store: Store, times: dict[str, float], words: str
) -> None:
    session = start_session(client)["id"]
    base = device_ms()
    body = {key: base + value if value < 10**12 else value for key, value in times.items()}
    if "device_now" not in times:
        body = dict(times)
    reply = press(client, session, kind="more", **body)
    assert reply.status_code == 422, reply.text
    refusal = reply.json()
    assert refusal["field"] == "device_time"
    assert words in refusal["error"]
    assert feedback(store, session) == []


@pytest.mark.parametrize("value", [-1, 10**17, "soon", True])
def test_a_device_time_that_is_no_clock_reading_is_refused(
    client: httpx.Client, value: object
) -> None:
    session = start_session(client)["id"]
    reply = press(client, session, kind="more", device_time=value)
    assert reply.status_code == 422, reply.text
    assert reply.json()["field"] == "device_time"


# A server whose session clock runs at the wall clock's pace: no save point for 10 s.
real_time = module_server("real-time", speed=1.0)


def test_a_kept_press_goes_back_past_the_time_a_device_was_shown(real_time: Server) -> None:
    """Another device looked at the session (its clock ran on, nothing logged): a press kept
    from before that look is still logged when it was made, as the log allows it."""
    with real_time.client() as client:
        session = start_session(client)["id"]
        time.sleep(3.0)
        shown = now_clock(client, session)  # the engine's clock runs to about 3 s
        now = device_ms()
        reply = press(client, session, kind="more", device_time=now - 2000, device_now=now)
        assert reply.status_code == 200, reply.text
    store = Store.open(real_time.database_url)
    try:
        [logged] = feedback(store, session)
    finally:
        store.close()
    # About 1 s into the session: before the 3 s the other device was shown, not clamped to it.
    assert logged.at < shown - 1.0, (logged.at, shown)
