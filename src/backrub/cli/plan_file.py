"""Reading a plan file written by `backrub plan --json`, with errors naming the file."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from backrub.datafile import describe_validation_error
from backrub.errors import DataFileError
from backrub.planner import Plan


def read_plan(path: Path) -> Plan:
    """The plan in the file, refused by screening or not (the caller decides what that means)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFileError("file not found", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataFileError(f"cannot read the file ({error})", where=str(path)) from None
    except json.JSONDecodeError as error:
        raise DataFileError(
            f"bad JSON ({error.msg}, line {error.lineno})", where=str(path)
        ) from None
    try:
        return Plan.from_json(data)
    except ValidationError as error:
        raise DataFileError(describe_validation_error(error), where=str(path)) from None
    except (ValueError, KeyError, TypeError) as error:
        raise DataFileError(f"not a backrub plan ({error})", where=str(path)) from None
