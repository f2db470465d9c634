"""Reading TOML data files into pydantic models; errors name the file, the key and the need."""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Callable
from enum import Enum
from importlib import resources
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from backrub.errors import DataFileError

ModelT = TypeVar("ModelT", bound=BaseModel)


# No backrub file comes near these: a 90-minute plan is about 100 KB and nests 5 levels deep.
# Past them a file is refused whole, before anything deeper (pydantic, the engine) recurses
# into it or spends minutes on it.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 32
TOO_DEEP = f"nested too deeply (backrub files nest at most {MAX_DEPTH} levels)"


def read_text(path: Path) -> str:
    """A user's text file; a missing, unreadable, huge or non-UTF-8 file becomes a DataFileError
    naming it."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise DataFileError("file not found", where=str(path)) from None
    except OSError as error:
        raise DataFileError(f"cannot read the file ({error.strerror})", where=str(path)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise DataFileError(
            f"the file is larger than {MAX_FILE_BYTES // 2**20} MiB; backrub's files are far "
            "smaller",
            where=str(path),
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataFileError(
            f"not UTF-8 text (byte {error.start} cannot be decoded)", where=str(path)
        ) from None
    # Universal newlines, as Path.read_text gives them.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_json(path: Path) -> Any:
    """A user's JSON file; bad JSON is reported with its line."""
    return parse_json(read_text(path), source=str(path))


def parse_json(text: str, *, source: str, one_line: bool = False) -> Any:
    """JSON text whose every number is finite, every string valid Unicode and whose nesting is
    shallow; anything else is a DataFileError naming `source` (and the key, where it can)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        line = "" if one_line else f", line {error.lineno}"
        raise DataFileError(f"bad JSON ({error.msg}{line})", where=source) from None
    except RecursionError:
        raise DataFileError(TOO_DEEP, where=source) from None
    except ValueError:
        # The only other refusal of Python's parser: an integer of more than 4300 digits.
        raise DataFileError("bad JSON (a number with too many digits)", where=source) from None
    check_values(data, source=source)
    return data


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a missing file or a syntax error becomes a DataFileError."""
    return parse_toml(read_text(path), source=str(path))


def parse_toml(text: str, *, source: str) -> dict[str, Any]:
    """TOML text, held to the same limits as `parse_json`."""
    # Imported here: the shipped files are read from their parsed copies (package_toml), so
    # most commands never parse TOML.
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DataFileError(f"malformed TOML: {error}", where=source) from None
    except RecursionError:
        raise DataFileError(TOO_DEEP, where=source) from None
    except ValueError as error:
        # Values the parser reads but Python cannot hold: a 5000-digit integer, 1979-02-30.
        raise DataFileError(f"malformed TOML: {error}", where=source) from None
    check_values(data, source=source)
    return data


def check_values(data: Any, *, source: str) -> None:
    """Refuse parsed data nested deeper than MAX_DEPTH, or holding Infinity or NaN (which
    `1e999` becomes), or a string with a lone surrogate (JSON's \\ud800), none of which backrub
    can use or write back out. Walked with a stack, not recursion, so depth cannot crash it."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, key, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise DataFileError(TOO_DEEP, where=_join(source, re.split(r"[.\[]", key)[0]))
        if isinstance(value, float) and not math.isfinite(value):
            raise DataFileError(
                f"not a finite number ({value})", where=_join(source, key or "value")
            )
        if isinstance(value, str):
            _check_unicode(value, where=_join(source, key or "value"))
        elif isinstance(value, dict):
            for name, item in value.items():
                _check_unicode(name, where=_join(source, key or "key"))
                shown = key_text(name)
                stack.append((item, f"{key}.{shown}" if key else shown, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{key}[{n}]", depth + 1) for n, item in enumerate(value))


def _check_unicode(text: str, *, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise DataFileError(
            "a string holds a lone surrogate (not valid Unicode)", where=where
        ) from None


def _join(source: str, key: str) -> str:
    return f"{source}: {key}" if key else source


def package_toml(package: str, name: str) -> dict[str, Any]:
    """Read a TOML file shipped inside a backrub package.

    Python's TOML parser is slow beside the rest of a command (the classic routine alone takes
    longer to parse than to plan), so each shipped file has its parsed form beside it as JSON
    (`NAME.toml.json`), used only while the checksum it records matches the TOML text: the TOML
    stays the source. tests/test_shipped_data.py fails on a stale copy; write_parsed_copies()
    writes them again."""
    return _package_data(package, name)[0]


def _package_data(package: str, name: str) -> tuple[dict[str, Any], bool]:
    """A shipped TOML file's data (package_toml), and whether it came from its checked copy."""
    folder = resources.files(package)
    text = folder.joinpath(name).read_text(encoding="utf-8")
    try:
        copy = json.loads(folder.joinpath(f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        copy = None
    if isinstance(copy, dict) and copy.get("toml") == text_checksum(text):
        data: dict[str, Any] = copy["data"]
        return data, True
    return parse_toml(text, source=f"{package}/{name}"), False


def shipped(model: type[ModelT], package: str, name: str, *, source: str) -> ModelT:
    """A TOML file shipped inside a backrub package, as `model`.

    Read from its parsed copy (package_toml), the data is built into the model without
    pydantic's validator (`construct`): building the validator of a file's models costs more
    than the rest of reading it (the atlas's and the classic routine's together are about a
    tenth of `backrub plan`'s start). tests/test_shipped_data.py validates every shipped file
    and checks that the model built this way is exactly the validated one; an edited TOML file
    (its copy no longer matching) is parsed and validated as any other file."""
    data, from_copy = _package_data(package, name)
    if from_copy:
        try:
            return construct(model, data)
        except _NotConstructible:
            pass
    return validate(model, data, source=source)


class _NotConstructible(Exception):
    """A type `construct` does not know: the data goes through pydantic's validator instead."""


Converter = Callable[[Any], Any]
_CONVERTERS: dict[int, tuple[Any, Converter]] = {}  # by id(type), the type kept alive with it
_FIELDS: dict[type[BaseModel], dict[str, Converter]] = {}


def construct(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    """`model` built from data that passes its validation (tested), without the validator:
    each value converted to its field's type as validation would (enums, tuples, floats,
    nested models), every key kept as given (so the same fields count as set). A value of
    another type than its field's raises _NotConstructible, never a half-right model."""
    fields = _FIELDS.get(model)
    if fields is None:
        fields = _FIELDS[model] = {
            name: _converter(field.annotation)
            for name, field in model.model_fields.items()
            if field.alias is None
        }
    try:
        values = {key: fields[key](value) for key, value in data.items()}
    except (KeyError, ValueError, TypeError) as error:  # an unknown key, enum value, length
        raise _NotConstructible(error) from None
    return model.model_construct(**values)


def _converter(kind: Any) -> Converter:
    """The conversion of a parsed value to `kind`, made once per type (the shipped files hold
    a few thousand values of a few dozen types)."""
    known = _CONVERTERS.get(id(kind))
    if known is None:
        known = _CONVERTERS[id(kind)] = (kind, _make_converter(kind))
    return known[1]


def _make_converter(kind: Any) -> Converter:
    origin = get_origin(kind)
    if origin is Annotated:
        return _converter(get_args(kind)[0])
    if origin is Union or origin is UnionType:
        arms = [arm for arm in get_args(kind) if arm is not NoneType]
        if len(arms) != 1:
            return _refuse
        arm, optional = _converter(arms[0]), len(arms) < len(get_args(kind))
        return lambda value: None if value is None and optional else arm(value)
    if origin is Literal:
        return lambda value: value
    if origin is list:
        item = _converter(get_args(kind)[0])
        return lambda value: [item(entry) for entry in _of_type(value, list)]
    if origin is tuple:
        items = get_args(kind)
        if len(items) == 2 and items[1] is Ellipsis:
            each = _converter(items[0])
            return lambda value: tuple(each(entry) for entry in _of_type(value, list))
        parts = [_converter(item) for item in items]
        return lambda value: tuple(
            part(entry) for part, entry in zip(parts, _of_type(value, list), strict=True)
        )
    if origin is dict:
        key, item = (_converter(arg) for arg in get_args(kind))
        return lambda value: {key(k): item(v) for k, v in _of_type(value, dict).items()}
    if origin is not None or not isinstance(kind, type):
        return _refuse
    if issubclass(kind, BaseModel):
        return lambda value: construct(kind, _of_type(value, dict))
    if issubclass(kind, Enum):
        return kind
    if kind is float:
        return lambda value: float(value) if type(value) in (int, float) else _refuse(value)
    if kind in (int, str, bool):
        return lambda value: _of_type(value, kind)
    return _refuse


def _of_type(value: Any, kind: type) -> Any:
    if type(value) is not kind:
        raise _NotConstructible(value)
    return value


def _refuse(value: Any) -> Any:
    raise _NotConstructible(value)


def text_checksum(text: str) -> str:
    """What ties a derived file to the text it was made from (a change check, not a security
    one: CRC-32 and length)."""
    data = text.encode("utf-8")
    return f"crc32:{zlib.crc32(data):08x}:{len(data)}"


def shipped_toml_files() -> list[tuple[str, str]]:
    """(package, file name) of every TOML file shipped inside backrub."""
    root = resources.files("backrub")
    with resources.as_file(root) as folder:
        found = sorted(folder.rglob("*.toml"))
        return [
            (".".join(("backrub", *path.parent.relative_to(folder).parts)), path.name)
            for path in found
        ]


def write_parsed_copies() -> None:
    """Write the parsed JSON copy of every shipped TOML file (see package_toml)."""
    for package, name in shipped_toml_files():
        folder = resources.files(package)
        text = folder.joinpath(name).read_text(encoding="utf-8")
        copy = {"toml": text_checksum(text), "data": parse_toml(text, source=name)}
        with resources.as_file(folder.joinpath(f"{name}.json")) as path:
            path.write_text(json.dumps(copy, ensure_ascii=False) + "\n", encoding="utf-8")


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
            name = key_text(str(part))
            text += f".{name}" if text else name
    return text


def key_text(name: str) -> str:
    """A key as an error message shows it: quoted when it is empty or holds what would break
    the one-line message or its `a.b[0]` path (a newline, a dot, a bracket, a space)."""
    if name and name.isprintable() and not any(mark in name for mark in ".[] :"):
        return name
    return repr(name)
