"""The parsed JSON copies of the shipped TOML files (NAME.toml.json) hold what the TOML holds.

Commands read a shipped TOML file's parsed copy instead of parsing it (datafile.package_toml);
if a TOML file changes and its copy is not written again, these tests fail, and until then the
checksum sends every read back to the TOML itself.
"""

from __future__ import annotations

import json
from importlib import resources

import pytest

from backrub import datafile
from backrub.datafile import package_toml, parse_toml, shipped_toml_files, text_checksum

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
