"""Scripted events for headless replay: one JSON object a line, read with errors naming the line."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from backrub.datafile import describe_validation_error, parse_json, read_text
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
        data = parse_json(stripped, source=where, one_line=True)
        try:
            events.append(Event.model_validate(data))
        except ValidationError as error:
            raise DataFileError(describe_validation_error(error), where=where) from None
    return events


def read_events(path: Path) -> list[Event]:
    return parse_events(read_text(path), source=str(path))
