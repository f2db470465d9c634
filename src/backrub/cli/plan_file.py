"""Reading a plan file written by `backrub plan --json`, with errors naming the file."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from backrub.datafile import describe_validation_error, read_json
from backrub.errors import DataFileError
from backrub.planner import Plan


def read_plan(path: Path) -> Plan:
    """The plan in the file, refused by screening or not (the caller decides what that means)."""
    data = read_json(path)
    try:
        return Plan.from_json(data)
    except ValidationError as error:
        raise DataFileError(describe_validation_error(error), where=str(path)) from None
    except (ValueError, KeyError, TypeError) as error:
        raise DataFileError(f"not a backrub plan ({error})", where=str(path)) from None
