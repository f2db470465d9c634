"""Single keys from the terminal, without Enter: stdin in cbreak mode, read with a timeout.

Cbreak rather than raw: output processing stays on (Rich's newlines still return the carriage)
and Ctrl-C still interrupts, so the guide can always be left the ordinary way.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
from types import TracebackType
from typing import Self, TextIO

# termios.tcgetattr's value: iflag, oflag, cflag, lflag, ispeed, ospeed, cc.
_Attributes = list[int | list[bytes | int]]


class KeyReader:
    """A context manager: keys arrive one at a time while inside, the terminal as it was after.

    Leaving the block (normally, on an exception, or from a signal handler's unwinding) puts the
    terminal back exactly as it was found.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdin
        self._fd = self._stream.fileno()
        self._saved: _Attributes | None = None

    def __enter__(self) -> Self:
        # POSIX only; imported here so that the rest of the CLI still loads on Windows.
        import termios
        import tty

        self._saved = termios.tcgetattr(self._fd)
        tty.setcbreak(self._fd, termios.TCSANOW)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.restore()

    def restore(self) -> None:
        """Put the terminal back as it was (safe to call more than once)."""
        if self._saved is not None:
            import termios

            saved, self._saved = self._saved, None
            # When the terminal is gone (SIGHUP) there is nothing left to restore.
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(self._fd, termios.TCSADRAIN, saved)

    def read_key(self, timeout: float) -> str | None:
        """The next key pressed within `timeout` seconds, or None when none was.

        Escape sequences (arrow keys and the like) come back whole, as one string, so that they
        can be recognised and ignored rather than read as several stray keys.
        """
        ready, _, _ = select.select([self._fd], [], [], max(0.0, timeout))
        if not ready:
            return None
        data = os.read(self._fd, 1)
        if not data:
            raise EOFError("the terminal closed")
        if data[0] >= 0xC0:  # the first byte of a character written in several bytes
            data += os.read(self._fd, 3 if data[0] >= 0xF0 else 2 if data[0] >= 0xE0 else 1)
        elif data == b"\x1b":
            while select.select([self._fd], [], [], 0.01)[0]:
                more = os.read(self._fd, 16)
                if not more:
                    break
                data += more
        return data.decode("utf-8", errors="replace")


def is_interactive(*streams: TextIO) -> bool:
    """True when every stream is a terminal (a person at a keyboard and a screen)."""
    try:
        return all(stream.isatty() for stream in streams)
    except (AttributeError, ValueError):
        return False
