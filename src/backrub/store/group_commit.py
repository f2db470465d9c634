"""Group commit: appends that arrive while a commit is in flight are written together in the
next transaction, so one flush of the disk serves many presses.

SQLite has one writer, and `synchronous=FULL` makes every commit wait for the disk (several
milliseconds on a busy one). One transaction per press made the disk's flushes the ceiling of
the whole server: each press waited for all those before it, one flush each, while the CPU sat
idle. Here a press's thread puts its append in the queue; if no batch is being written it
writes the queue itself (it leads), else it waits. A leader takes everything queued, writes it
in one transaction, commits, then tells each waiting press its own outcome; one of the presses
that queued meanwhile leads the next batch. Nothing waits on purpose for a batch to fill: a
lone press is written at once, exactly as before.

What each press is told holds as before: an append is answered only after the commit that holds
it has returned (a crash never loses an acknowledged event), and an append refused on its own
(out of date, a repeated press, a session that has ended, a row the database refuses) is undone
alone inside the batch (its checks write nothing, its one INSERT is undone alone by SQLite),
so the others of its batch are stored and answered.
When the batch itself fails (its commit, or the connection), none of its appends is stored and
each is told that error; the batches before and after it are untouched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

Job = TypeVar("Job")


class Queued(Generic[Job]):
    """One append waiting in the queue: what to write, then its outcome once its batch is done."""

    __slots__ = ("done", "error", "job", "seq")

    def __init__(self, job: Job) -> None:
        self.job = job
        self.done = False
        self.seq = 0
        self.error: BaseException | None = None

    def outcome(self) -> int:
        if self.error is not None:
            raise self.error
        return self.seq


class GroupCommit(Generic[Job]):
    """A queue of appends, written in batches by whichever waiting thread leads.

    `write(batch)` writes and commits a batch; it sets each `Queued`'s seq or error, and raises
    for the batch as a whole (then every append of the batch that was not refused on its own is
    told that error, and none of them may have been stored)."""

    def __init__(self, write: Callable[[list[Queued[Job]]], None]) -> None:
        self._write = write
        self._changed = threading.Condition(threading.Lock())
        self._queue: list[Queued[Job]] = []
        self._leading = False
        self.batches = 0  # batches written (bench/bench_web.py counts the commits)
        self.largest = 0  # the most appends one batch held (tests look at it)

    def waiting(self) -> int:
        """How many appends are queued for the next batch (not the one being written)."""
        with self._changed:
            return len(self._queue)

    def writing(self) -> bool:
        """Whether a batch is being written now."""
        with self._changed:
            return self._leading

    def append(self, job: Job) -> int:
        """Write `job` in the next batch; its sequence number once that batch is committed.
        Raises what refused it (alone, or with its whole batch)."""
        mine = Queued(job)
        with self._changed:
            self._queue.append(mine)
            while self._leading and not mine.done:
                self._changed.wait()
            if mine.done:
                return mine.outcome()
            # Nobody writes: this thread writes everything queued, its own append among it.
            self._leading = True
            batch, self._queue = self._queue, []
        try:
            self._write(batch)
        except BaseException as error:
            for queued in batch:
                if queued.error is None:
                    queued.error = error
        finally:
            with self._changed:
                self.batches += 1
                self.largest = max(self.largest, len(batch))
                for queued in batch:
                    queued.done = True
                self._leading = False
                # The batch's presses, and those queued meanwhile (one of which leads next).
                self._changed.notify_all()
        return mine.outcome()
