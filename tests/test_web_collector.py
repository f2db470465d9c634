"""The server's garbage collection (web/collector.py): what it holds is frozen, out of the
collector's whole walks, yet garbage is still freed: young cycles at each freeze, frozen ones at
each thaw."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from backrub.web import collector

Result = TypeVar("Result")


class Node:
    """Something that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> weakref.ref[Node]:
    """A reference cycle nothing else holds, and a way to tell whether it was freed."""
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    """Other tests run with nothing frozen, as before."""
    yield
    gc.unfreeze()


def test_what_the_server_holds_is_frozen_and_young_cycles_are_still_freed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(collector, "FREEZE_EVERY", 0.01)
    held = Node()  # something the server keeps, frozen with the rest

    async def run() -> weakref.ref[Node]:
        async with collector.young_only():
            assert gc.get_freeze_count() > 0
            gone = cycle()  # made after the first freeze, garbage at once
            await asyncio.sleep(0.1)  # a few freezes: each collects the young first
            return gone

    gone = run_without_automatic_collections(run)
    assert gone() is None
    assert held.other is None  # what is held stays as it is


@pytest.mark.parametrize("thaws", [False, True])
def test_cycles_that_were_frozen_are_freed_at_the_next_thaw(
    monkeypatch: pytest.MonkeyPatch, thaws: bool
) -> None:
    monkeypatch.setattr(collector, "FREEZE_EVERY", 0.01)
    monkeypatch.setattr(collector, "THAW_EVERY", 0.05 if thaws else 3600.0)
    gone = cycle()
    gc.freeze()  # frozen before it was seen as garbage (it outlived two young collections)

    async def run() -> None:
        async with collector.young_only():
            await asyncio.sleep(0.3)

    run_without_automatic_collections(run)
    # The freezes walk only what is not frozen; a thaw, every THAW_EVERY, walks everything.
    assert (gone() is None) is thaws


def run_without_automatic_collections(work: Callable[[], Coroutine[Any, Any, Result]]) -> Result:
    """Run `work` (an async function) with Python's own collections off, so only the
    collector module frees cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return asyncio.run(work())
    finally:
        if enabled:
            gc.enable()
