"""Receiver profile files (TOML or JSON) and command-line options, merged into a PlanRequest."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from backrub.datafile import format_location, read_json, read_toml
from backrub.errors import BackrubError, DataFileError
from backrub.method.routine import BUILT_IN_ROUTINES, load_routine
from backrub.method.vocabulary import PressureLevel
from backrub.planner import MAX_MINUTES, MIN_MINUTES, PlanRequest
from backrub.safety import judge_routine

_PRESSURE_WORDS = {level.word: level for level in PressureLevel}


def read_profile(path: Path) -> dict[str, Any]:
    """The raw mapping in a profile file; `.json` files are JSON, anything else TOML."""
    if path.suffix.lower() == ".json":
        data = read_json(path)
        if not isinstance(data, dict):
            raise DataFileError("expected a JSON object at the top", where=str(path))
        return data
    return read_toml(path)


def parse_pressure(text: str, *, where: str = "--pressure") -> PressureLevel:
    """`3` or `moderate` -> PressureLevel.MODERATE; a refusal names `where` the text came from."""
    value = text.strip().lower()
    if value in _PRESSURE_WORDS:
        return _PRESSURE_WORDS[value]
    if value.isdigit() and 1 <= int(value) <= 5:
        return PressureLevel(int(value))
    words = ", ".join(f"{level.value} ({level.word})" for level in PressureLevel)
    raise BackrubError(f"{text!r} is not a pressure; expected one of {words}", where=where)


def build_request(
    profile: Path | None, overrides: dict[str, Any], *, saved: dict[str, Any] | None = None
) -> PlanRequest:
    """The profile's values (a file, or a saved receiver's `saved` choices), with every option
    given on the command line taking precedence."""
    data: dict[str, Any] = read_profile(profile) if profile else dict(saved or {})
    source = str(profile) if profile else "the saved receiver's choices"
    if isinstance(data.get("pressure"), str):
        data["pressure"] = parse_pressure(data["pressure"], where=f"{source}: pressure")
    for table in ("screening", "fit"):
        if not isinstance(data.get(table, {}), dict):
            raise DataFileError("must be a table of keys", where=f"{source}: {table}")
    screening = dict(data.get("screening", {}))
    given: set[str] = set()
    for key, value in overrides.items():
        if value is None or value == [] or value == () or value == frozenset():
            continue
        given.add(key)
        if key in ("yes", "local"):
            screening[key] = value
        elif key in ("shoulder_width_cm", "skull_to_s2_cm"):
            data.setdefault("fit", {})[key] = value
        else:
            data[key] = value
    if screening:
        data["screening"] = screening
    minutes = data.get("minutes")
    where = "--minutes" if "minutes" in given else f"{source}: minutes"
    if isinstance(minutes, float) and not math.isfinite(minutes):  # `--minutes nan`
        raise BackrubError(f"not a finite number ({minutes})", where=where)
    if isinstance(minutes, int | float) and not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise BackrubError(
            f"{minutes:g} minutes is out of range; expected {MIN_MINUTES} to {MAX_MINUTES}",
            where=where,
        )
    try:
        request = PlanRequest.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        key = format_location(first["loc"])
        top = str(first["loc"][0]) if first["loc"] else ""
        if top in _OPTION_NAMES and (top in given or profile is None):
            where = _OPTION_NAMES[top]
        else:
            where = f"{profile}: {key}" if profile else key
        raise BackrubError(first["msg"], where=where) from None
    _refuse_unsafe_routine_file(request.routine)
    return request


def _refuse_unsafe_routine_file(name: str) -> None:
    """A routine file that breaks a hard rule is refused before planning: the planner holds
    every plan to the rules and would stop on it as on a bug of its own."""
    if name in BUILT_IN_ROUTINES:
        return
    broken = judge_routine(load_routine(name))
    if broken:
        raise BackrubError(
            f"the routine breaks {len(broken)} hard rule(s): {broken[0].one_line()}; "
            f"`backrub check {name}` lists them",
            where=name,
        )


_OPTION_NAMES = {
    "minutes": "--minutes",
    "activities": "--activity",
    "trouble_spots": "--trouble",
    "pressure": "--pressure",
    "order": "--order",
    "routine": "--routine",
    "fit": "--shoulder-width/--back-length",
    "screening": "--yes/--local",
}
