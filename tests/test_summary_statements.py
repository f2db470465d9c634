"""The summary never contradicts itself: what it says comes from the figures it shows.

The summary page is read in-process (the app on a SQLite file), for sessions stored the way the
live guides store them: the events, then the end with the engine's summary.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path

import httpx
import pytest

from backrub.atlas import default_atlas
from backrub.planner import PlanRequest, make_plan
from backrub.session import Event, EventKind, SessionEngine
from backrub.session.summary import summarize
from backrub.session.verdicts import about_the_same, sides, sides_in_words
from backrub.store import Store
from backrub.web.app import WebSettings, create_app

PLAN = make_plan(PlanRequest(minutes=20))


def text_of(html: str) -> str:
    inline = re.sub(r"</?(?:a|strong|span|time|em|b)\b[^>]*>", "", html)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", inline))).strip()


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'summary.sqlite3'}"


Page = Callable[[str], str]


@pytest.fixture
def page(database: str) -> Iterator[Page]:
    """The text of a page as the app serves it (in this process, on the test's database)."""
    app = create_app(WebSettings(database_url=database))

    async def fetch(path: str) -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            reply = await client.get(path)
        assert reply.status_code == 200, reply.text
        return text_of(reply.text)

    yield lambda path: asyncio.run(fetch(path))
    app.state.hub.store.close()


def stored(database: str, events: list[Event]) -> tuple[str, dict[str, object]]:
    """A session run through these events to its end (stopped, or run out), as stored."""
    with Store.open(database) as store:
        session_id = store.start_session(PLAN.to_json())
        engine = SessionEngine(PLAN)
        for event in events:
            store.append_event(session_id, event)
            engine.apply(event)
        engine.advance(engine.state.clock + engine.budget * 3)
        summary = summarize(engine)
        store.end_session(session_id, "stopped" if events else "finished", summary)
    return session_id, summary


def test_a_stop_between_the_two_sides_is_not_called_even(database: str, page: Page) -> None:
    # Stopped on the right shoulder: 1:40 on the left, 1:30 on the right so far.
    session_id, summary = stored(database, [Event(at=124, kind=EventKind.STOP)])
    compared = summary["sides"]
    assert isinstance(compared, dict)
    assert (compared["left"], compared["right"], compared["even"]) == (100, 90, False)
    # The right shoulder's step was cut short: the place table shows it too, and so it is said.
    assert [pair["base"] for pair in compared["uneven_pairs"]] == ["upper-trapezius"]
    text = page(f"/session/{session_id}/summary")
    assert "Left 1:40 Right 1:30" in text
    assert "The right side got 0:10 less than the left side." in text
    assert "about the same time" not in text
    assert "give the right side a little more time" not in text  # it stopped, that is all
    left, right = (compared["uneven_pairs"][0][side] for side in ("left", "right"))
    assert f"{left // 60}:{left % 60:02d} on the left, {right // 60}:{right % 60:02d} on" in text


def test_a_stopped_session_lists_what_it_did_not_reach(database: str, page: Page) -> None:
    session_id, summary = stored(database, [Event(at=14, kind=EventKind.STOP)])
    not_reached = summary["not_reached"]
    assert isinstance(not_reached, dict)
    assert not_reached["phases"] == ["neck", "upper-back", "lower-back", "closing"]
    planned = [step.id for step in PLAN.steps]
    # Every planned step but the one it stopped in, in the plan's order.
    assert [item["step"] for item in not_reached["steps"]] == planned[1:]
    text = page(f"/session/{session_id}/summary")
    assert "Nothing was left out" not in text
    assert "stopped before it reached these parts: neck, upper back, lower back, closing" in text
    assert "Sweep: " in text  # the closing's sweeps among the steps not done


def test_a_session_that_ran_to_its_end_left_nothing_unreached(database: str, page: Page) -> None:
    session_id, summary = stored(database, [])
    assert summary["not_reached"] == {"phases": [], "steps": []}
    assert summary["sides"]["even"]  # type: ignore[index]
    text = page(f"/session/{session_id}/summary")
    assert "Nothing was left out." in text and "stopped before" not in text
    assert "The two sides got about the same time: they should feel even." in text


def test_places_that_differ_are_named_even_when_the_sides_add_up_the_same() -> None:
    summary = {
        "per_side_seconds": {"left": 450.0, "right": 450.4, "midline": 0.0},
        "regions": {
            "upper-trapezius-left": {"seconds": 240.4, "side": "left"},
            "upper-trapezius-right": {"seconds": 209.6, "side": "right"},
            "middle-trapezius-left": {"seconds": 209.6, "side": "left"},
            "middle-trapezius-right": {"seconds": 240.8, "side": "right"},
            "teres-left": {"seconds": 30.0, "side": "left"},  # the right side is left out
        },
        "left_out": [{"region": "teres-right", "reason": "bruise"}],
    }
    compared = sides(summary, default_atlas())
    assert compared["even"] and (compared["left"], compared["right"]) == (450, 450)
    assert compared["uneven_pairs"] == [
        {"base": "upper-trapezius", "left": 240, "right": 210},
        {"base": "middle-trapezius", "left": 210, "right": 241},
    ]
    verdict, lines = sides_in_words(compared, default_atlas())
    assert verdict == "The two sides got about the same time in all, but not place by place."
    assert lines[0].endswith(": 4:00 on the left, 3:30 on the right")


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [(12, 6, False), (100, 90, False), (600, 590, True), (10, 9, True), (0, 1, True)],
)
def test_about_the_same_is_judged_on_whole_seconds_as_shown(
    first: int, second: int, same: bool
) -> None:
    assert about_the_same(first, second) is same
