"""Saying cues aloud with espeak-ng, without ever making the guide wait for the voice."""

from __future__ import annotations

import shutil
import subprocess
from collections import deque
from collections.abc import Iterable

from backrub.errors import BackrubError

ESPEAK = "espeak-ng"
# Cues pile up only when many keys come quickly; the newest matter, the oldest are dropped.
MAX_WAITING = 3
WORDS_PER_MINUTE = 150  # a little slower than espeak's default: heard across a room


def find_espeak() -> str:
    """The path of espeak-ng, or a BackrubError saying how to get it (or to do without)."""
    found = shutil.which(ESPEAK)
    if found is None:
        raise BackrubError(
            f"{ESPEAK} is not installed (apt-get install {ESPEAK}), or run without --speak"
        )
    return found


class Speaker:
    """Speaks one text at a time in a child process; later texts wait their turn.

    `say` and `poll` return at once: the guide calls `poll` on every refresh to start the next
    text when the voice has finished the last one.
    """

    def __init__(self, program: str) -> None:
        self._program = program
        self._speaking: subprocess.Popen[bytes] | None = None
        self._waiting: deque[str] = deque(maxlen=MAX_WAITING)

    def say(self, texts: Iterable[str]) -> None:
        text = " ".join(t.strip() for t in texts if t.strip())
        if text:
            self._waiting.append(text)
            self.poll()

    def poll(self) -> None:
        if self._speaking is not None and self._speaking.poll() is None:
            return
        self._speaking = None
        if self._waiting:
            self._speaking = self._start(self._waiting.popleft())

    def close(self, *, wait: float = 0.0) -> None:
        """Let the voice finish for up to `wait` seconds, then silence it; drop what waits."""
        self._waiting.clear()
        speaking, self._speaking = self._speaking, None
        if speaking is None:
            return
        try:
            speaking.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            speaking.terminate()
            speaking.wait()

    def _start(self, text: str) -> subprocess.Popen[bytes] | None:
        try:
            return subprocess.Popen(
                [self._program, "-s", str(WORDS_PER_MINUTE), "--", text],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C at the guide must not reach the voice
            )
        except OSError:
            return None  # a voice that cannot start must not stop the massage
