"""Reading TOML data files into pydantic models; errors name the file, the key and the need."""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from backrub.errors import DataFileError

ModelT = TypeVar("ModelT", bound=BaseModel)


def read_text(path: Path) -> str:
    """A user's text file; a missing or unreadable file becomes a DataFileError naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError("file not found", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataFileError(f"cannot read the file ({error})", where=str(path)) from None


def read_json(path: Path) -> Any:
    """A user's JSON file; bad JSON is reported with its line."""
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise DataFileError(
            f"bad JSON ({error.msg}, line {error.lineno})", where=str(path)
        ) from None


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a missing file or a syntax error becomes a DataFileError."""
    return parse_toml(read_text(path), source=str(path))


def parse_toml(text: str, *, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DataFileError(f"malformed TOML: {error}", where=source) from None


def package_toml(package: str, name: str) -> dict[str, Any]:
    """Read a TOML file shipped inside a backrub package."""
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    return parse_toml(text, source=f"{package}/{name}")


def validate(model: type[ModelT], data: Any, *, source: str) -> ModelT:
    """Validate data against a model; the first problem is reported as `file: key: message`."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise DataFileError(describe_validation_error(error), where=source) from None


def describe_validation_error(error: ValidationError) -> str:
    problems = error.errors(include_url=False)
    first = problems[0]
    key = format_location(first["loc"])
    message = first["msg"]
    if first["type"] == "missing":
        message = "is required but missing"
    elif first["type"] == "extra_forbidden":
        message = "is not a known key"
    elif first["type"] in ("enum", "literal_error"):
        # Name the value that is wrong, not only the ones that would be right.
        message = f"unknown value {str(first['input'])[:40]!r}; {message[:1].lower()}{message[1:]}"
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    return f"{key}: {message}{more}" if key else f"{message}{more}"


def format_location(location: tuple[int | str, ...]) -> str:
    """Turn pydantic's ('phase', 1, 'step', 0, 'contact') into 'phase[1].step[0].contact'."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
