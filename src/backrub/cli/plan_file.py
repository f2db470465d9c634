"""Reading a plan file written by `backrub plan --json`, with errors naming the file."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from backrub.atlas import default_atlas
from backrub.datafile import describe_validation_error, read_json
from backrub.errors import BackrubError, DataFileError
from backrub.planner import Plan


def read_plan(path: Path) -> Plan:
    """The plan in the file, refused by screening or not (the caller decides what that means)."""
    data = read_json(path)
    try:
        plan = Plan.from_json(data)
    except ValidationError as error:
        raise DataFileError(describe_validation_error(error), where=str(path)) from None
    except (ValueError, KeyError, TypeError) as error:
        raise DataFileError(f"not a backrub plan ({error})", where=str(path)) from None
    except BackrubError as error:  # whatever the models refuse in it, the file is to blame
        raise DataFileError(error.one_line(), where=str(path)) from None
    # A hand-edited region would otherwise stop the session engine midway, naming no file.
    atlas = default_atlas()
    for number, step in enumerate(plan.steps):
        for region in step.regions:
            if not atlas.has_region(region):
                raise DataFileError(
                    f"unknown region {region!r}", where=f"{path}: steps[{number}].regions"
                )
    return plan
