"""A live stream's messages: the session's state each time it changes, as server-sent events.

Shared by the stream route in the app (api.py) and the lean one in front of it (hot_routes.py).
Each message is encoded once per version of a session: both devices of a household get the
very same bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

from backrub.web.hub import NO_VERSION, Hub

Result = TypeVar("Result")

STREAM_POLL = 0.25  # the shortest wait (seconds) between a live stream's looks at its session
KEEP_ALIVE = 15.0  # seconds between comments on a quiet stream, so proxies keep it open
STILL_HERE = b": still here\n\n"
# Work that may wait for the database (a press's commit, a look that stores a save point) runs
# in these threads, never on the event loop: a plain executor, a lighter hand-off than anyio's.
WORKER_THREADS = 16
_workers = ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="backrub-live")

# The newest message of each session being streamed, by the JSON text it was made from (the
# hub hands every stream of a session the same text object for a version).
_encoded: dict[str, tuple[str, bytes]] = {}


async def in_thread(work: Callable[[], Result]) -> Result:
    """`work()` in one of the live routes' threads."""
    return await asyncio.get_running_loop().run_in_executor(_workers, work)


class Gone:
    """Set when the device has gone: wakes its stream, which then ends."""

    def __init__(self) -> None:
        self.gone = False
        self.wakes: asyncio.Event | None = None

    def set(self) -> None:
        self.gone = True
        if self.wakes is not None:
            self.wakes.set()


def _message(session_id: str, text: str) -> bytes:
    found = _encoded.get(session_id)
    if found is not None and found[0] is text:
        return found[1]
    message = f"event: state\ndata: {text}\n\n".encode()
    _encoded[session_id] = (text, message)
    return message


async def live_messages(
    hub: Hub, session_id: str, *, account: int | None, gone: Gone | None = None
) -> AsyncIterator[bytes]:
    """The stream's messages, until the session is over or the device has gone."""
    last, said = NO_VERSION, time.monotonic()
    with hub.watch(session_id) as changed:
        if gone is not None:
            gone.wakes = changed
        try:
            while gone is None or not gone.gone:
                changed.clear()  # before reading: a change from now on wakes us at once
                # Mostly the state a press just built: no worker thread needed for that.
                look = hub.look_at_once(session_id, last, account=account)
                if look is None:
                    look = await in_thread(partial(hub.look, session_id, last, account=account))
                if look.text is not None:
                    last, said = look.version, time.monotonic()
                    yield _message(session_id, look.text)
                    if look.over:
                        return
                elif time.monotonic() - said >= KEEP_ALIVE:
                    said = time.monotonic()
                    yield STILL_HERE
                # Woken by feedback (here or in another process); else when the clock alone
                # may have moved the session on (the step's end, a save point), or to keep
                # the connection alive: not on a fixed poll, which thousands of streams
                # would turn into thousands of looks a second.
                wait = min(look.quiet, KEEP_ALIVE - (time.monotonic() - said))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(wait, STREAM_POLL)):  # no task per wait
                        await changed.wait()
        finally:
            _encoded.pop(session_id, None)
