"""The parsed JSON copies of the shipped TOML files (NAME.toml.json) hold what the TOML holds.

Commands read a shipped TOML file's parsed copy instead of parsing it (datafile.package_toml);
if a TOML file changes and its copy is not written again, these tests fail, and until then the
checksum sends every read back to the TOML itself.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from backrub import datafile
from backrub.atlas.model import AtlasFile, Side
from backrub.datafile import package_toml, parse_toml, shipped_toml_files, text_checksum
from backrub.errors import DataFileError
from backrub.method.routine import RoutineFile
from backrub.method.words import Vocabulary
from backrub.planner.activities import ActivitiesFile
from backrub.safety.screening import ScreeningFile

REWRITE = 'python -c "from backrub import datafile; datafile.write_parsed_copies()"'
SHIPPED = shipped_toml_files()


def test_the_data_files_the_planner_reads_are_all_found() -> None:
    assert {
        ("backrub.atlas", "back.toml"),
        ("backrub.method", "vocabulary.toml"),
        ("backrub.method.routines", "classic.toml"),
        ("backrub.planner", "activities.toml"),
        ("backrub.safety", "screening.toml"),
    } <= set(SHIPPED)


@pytest.mark.parametrize(("package", "name"), SHIPPED)
def test_each_parsed_copy_is_the_toml_parsed_now(package: str, name: str) -> None:
    folder = resources.files(package)
    text = folder.joinpath(name).read_text(encoding="utf-8")
    copy = json.loads(folder.joinpath(f"{name}.json").read_text(encoding="utf-8"))
    assert copy["toml"] == text_checksum(text), f"{name} changed: run {REWRITE}"
    assert copy["data"] == parse_toml(text, source=name), f"stale copy of {name}: run {REWRITE}"
    assert package_toml(package, name) == copy["data"]


def test_the_copy_is_read_while_it_matches_and_the_toml_once_it_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[str] = []
    monkeypatch.setattr(datafile, "parse_toml", lambda text, source: parsed.append(source) or {})
    assert package_toml("backrub.planner", "activities.toml") != {}
    assert parsed == []
    monkeypatch.setattr(datafile, "text_checksum", lambda text: "an edited file")
    assert package_toml("backrub.planner", "activities.toml") == {}
    assert parsed == ["backrub.planner/activities.toml"]


# The model each shipped file is read into with datafile.shipped (the robot's figures are
# validated as they are read: no command that starts often reads them).
MODELS: dict[tuple[str, str], type[BaseModel]] = {
    ("backrub.atlas", "back.toml"): AtlasFile,
    ("backrub.method", "vocabulary.toml"): Vocabulary,
    ("backrub.method.routines", "classic.toml"): RoutineFile,
    ("backrub.method.routines", "neck-and-shoulders.toml"): RoutineFile,
    ("backrub.planner", "activities.toml"): ActivitiesFile,
    ("backrub.safety", "screening.toml"): ScreeningFile,
}


def test_every_shipped_file_but_the_figures_has_its_model_here() -> None:
    assert set(MODELS) == set(SHIPPED) - {("backrub.robot", "figures.toml")}


@pytest.mark.parametrize(("package", "name"), list(MODELS))
def test_a_shipped_file_built_from_its_copy_is_exactly_the_validated_one(
    package: str, name: str
) -> None:
    """What `shipped` builds without pydantic's validator: the same values of the same types
    (repr shows an enum or a tuple where validation gives one, the JSON an int or a float) and
    the same fields set, at every level."""
    model = MODELS[(package, name)]
    data = package_toml(package, name)
    validated = datafile.validate(model, data, source=name)
    built = datafile.shipped(model, package, name, source=name)
    assert built == validated
    assert repr(built) == repr(validated)
    assert built.model_dump_json() == validated.model_dump_json()
    assert built.model_dump_json(exclude_unset=True) == validated.model_dump_json(
        exclude_unset=True
    )


def test_data_of_another_type_than_its_field_is_validated_not_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Values validation would convert (a float or a string for an int) or refuse (an unknown
    key or enum value, a number for a string) send the file through the validator: the model
    or the refusal is the validator's, never a model built half right."""
    data = package_toml("backrub.planner", "activities.toml")
    name, first = next(iter(data["activity"].items()))
    wrong: list[dict[str, Any]] = [
        {**data, "version": 1.0},
        {**data, "version": "1"},
        {**data, "activity": {**data["activity"], name: {**first, "area": "elbow"}}},
        {**data, "activity": {**data["activity"], name: {**first, "label": 7}}},
        {**data, "unknown": 1},
        {**data, "activity": ["all of them"]},
    ]
    for case in wrong:
        monkeypatch.setattr(
            datafile, "_package_data", lambda package, name, case=case: (case, True)
        )
        answers = []
        for read in (
            lambda case=case: datafile.validate(ActivitiesFile, case, source="activities.toml"),
            lambda: datafile.shipped(
                ActivitiesFile, "backrub.planner", "activities.toml", source="activities.toml"
            ),
        ):
            try:
                answers.append(repr(read()))
            except DataFileError as error:
                answers.append(error.one_line())
        assert answers[0] == answers[1], case


class _Sample(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    width: float
    points: tuple[tuple[float, float], ...] = ()
    side: Side | None = None


def test_construct_converts_each_value_as_validation_does() -> None:
    data = {"width": 3, "points": [[0, 1], [0.5, 2]], "side": "left"}
    assert repr(datafile.construct(_Sample, data)) == repr(_Sample.model_validate(data))


def test_an_edited_file_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []
    monkeypatch.setattr(datafile, "construct", lambda model, data: built.append(model))
    monkeypatch.setattr(datafile, "text_checksum", lambda text: "an edited file")
    vocabulary = datafile.shipped(
        Vocabulary, "backrub.method", "vocabulary.toml", source="vocabulary.toml"
    )
    assert isinstance(vocabulary, Vocabulary) and built == []
