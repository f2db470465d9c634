"""Garbage collection that never stops the server for long.

Python's collector sometimes walks every object the process holds (a "generation 2" collection):
with a thousand live sessions and their connections that is several hundred thousand objects, a
pause of 0.6-0.8 s of CPU (measured at 1,000 households; more wall time on a busy machine) in
which no press is answered and no device updated: the slowest presses. Nearly none of those
objects is ever garbage (a session's objects are freed by reference counting when it is released;
measured: no cycle left behind).

So the server freezes what it holds (`gc.freeze`: moved out of the collector's sight) at
start-up, after a whole collection, and every FREEZE_EVERY seconds after collecting only the
two young generations (a whole collection of what 10 s of a thousand households leave behind
took 80-160 ms of CPU; the young ones take a few): each collection then walks only what was
made since. Cyclic garbage that outlived two collections is frozen with the rest and seen at the
next thaw, every THAW_EVERY seconds (one whole walk then), so memory stays bounded; measured,
such garbage is a few dozen objects an evening.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator

FREEZE_EVERY = 10.0  # seconds between collecting the young generations and freezing the rest
THAW_EVERY = 1800.0  # seconds between walks over everything (cycles among frozen objects)


def settle(generation: int = 2) -> None:
    """Collect up to `generation` (2: everything not frozen), then freeze whatever is left."""
    gc.collect(generation)
    gc.freeze()


@contextlib.asynccontextmanager
async def young_only() -> AsyncIterator[None]:
    """While the server runs: collections walk only what is new (see the module's text)."""
    settle()  # the imports, the atlas, the method, the templates: never garbage
    keeper = asyncio.create_task(_keep())
    try:
        yield
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper


async def _keep() -> None:
    thawed = time.monotonic()
    while True:
        await asyncio.sleep(FREEZE_EVERY)
        if time.monotonic() - thawed >= THAW_EVERY:
            thawed = time.monotonic()
            gc.unfreeze()
            settle()
        else:
            settle(1)
