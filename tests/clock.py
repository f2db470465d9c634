"""A monotonic clock a test moves by hand (passed where the code under test reads the time)."""

from __future__ import annotations


class Clock:
    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now
