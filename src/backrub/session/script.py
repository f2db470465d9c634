"""Scripted events for headless replay: one JSON object a line, read with errors naming the line."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from backrub.datafile import describe_validation_error, read_text
from backrub.errors import DataFileError
from backrub.session.events import Event


def parse_events(text: str, *, source: str) -> list[Event]:
    """Events from JSON lines; blank lines and lines starting with # are skipped."""
    events = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{source}: line {number}"
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise DataFileError(f"bad JSON ({error.msg})", where=where) from None
        try:
            events.append(Event.model_validate(data))
        except ValidationError as error:
            raise DataFileError(describe_validation_error(error), where=where) from None
    return events


def read_events(path: Path) -> list[Event]:
    return parse_events(read_text(path), source=str(path))
