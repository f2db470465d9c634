"""What a live session keeps between looks: its state once, as the JSON text the streams send."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from backrub.planner import PlanRequest, make_plan
from backrub.session import EventKind
from backrub.store import Store
from backrub.web.hub import NO_VERSION, Hub


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'backrub.sqlite3'}") as opened:
        yield opened


def test_a_followed_session_keeps_its_state_as_one_text_not_also_a_dict(store: Store) -> None:
    """A thousand live sessions each kept the state twice (a dict of a few KB and its JSON)."""
    hub = Hub(store)
    session = hub.start(make_plan(PlanRequest(minutes=60)))
    reply = json.loads(hub.send_json(session, EventKind.MORE))  # a press's reply, as text
    look = hub.look(session, NO_VERSION)  # a stream sends the same version as text

    assert look.text is not None and json.loads(look.text) == reply
    followed = hub.followed(session)
    assert followed.built is None
    assert followed.text == (look.version, look.text)
