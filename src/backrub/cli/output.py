"""Writing results: JSON to stdout, files written whole or not at all."""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from backrub.errors import BackrubError


def print_json(data: Any) -> None:
    # allow_nan=False: NaN and Infinity are not JSON; the readers refuse them on the way in,
    # so one here is a bug, better stopped than printed for another program to choke on.
    print(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False))


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_text_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside the target, then rename: a crash leaves no half file."""
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        # mkstemp makes the file private; a map or plan is an ordinary file of the user's.
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except OSError as error:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
        raise BackrubError(f"cannot write the file ({error.strerror})", where=str(path)) from None


@contextmanager
def atomic_binary_file(path: Path) -> Iterator[BinaryIO]:
    """A file to stream into that appears at `path` only when the block ends without error."""
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
        with os.fdopen(handle, "wb") as stream:
            yield stream
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
        temporary = None
    except OSError as error:
        raise BackrubError(f"cannot write the file ({error.strerror})", where=str(path)) from None
    finally:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)


@contextmanager
def atomic_text_file(path: Path) -> Iterator[TextIO]:
    """As atomic_binary_file, for UTF-8 text."""
    with atomic_binary_file(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        try:
            yield text
        finally:
            text.flush()
            text.detach()
