"""Hostile files: deeply nested, non-finite, huge, malformed, not UTF-8.

Every file the CLI reads (routine TOML, profile TOML or JSON, plan JSON, events JSONL) gets the
same treatment: a refusal is exit 2 with one line naming the file; never a traceback, or
NaN/Infinity printed as if it were JSON.

The plain tests first (each failed before the shared reader, datafile.py, refused these), then
the fuzzing: hypothesis, derandomized and bounded, mutating real files. The CLI runs in-process
(tests/fuzzing.py), with a few real subprocess runs. The API's bodies: test_fuzz_api.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backrub.cli.output import print_json
from backrub.datafile import MAX_DEPTH, MAX_FILE_BYTES
from tests.conftest import RunBackrub
from tests.fuzzing import (
    EVENTS_JSONL,
    FUZZ,
    PLAN_JSON,
    PROFILE_JSON,
    PROFILE_TOML,
    ROUTINE_TOML,
    Reader,
    assert_refused_naming,
    backrub,
    invented,
    mutated,
    readers,
    run_reader,
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def all_readers(folder: Path) -> dict[str, Reader]:
    return readers(folder)


# ---------------------------------------------------------------------------- plain regressions


def nested_json(depth: int) -> str:
    return '{"minutes": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize(
    ("reader", "content", "where"),
    [
        ("routine", "a = " + "[" * 1000 + "]" * 1000, "routine.toml"),
        ("routine", "title = " + "{a = " * 100 + "1" + "}" * 100, "routine.toml: title"),
        ("profile-toml", "minutes = " + "[" * 1000 + "]" * 1000, "profile.toml"),
        ("profile-json", nested_json(5000), "profile.json"),
        ("profile-json", nested_json(100), "profile.json: minutes"),
        ("plan", "[" * 5000 + "]" * 5000, "plan.json"),
        ("events", '{"at": ' + "[" * 5000 + "]" * 5000 + "}", "events.jsonl: line 1"),
    ],
    ids=[
        "toml-array",
        "toml-table",
        "profile-toml",
        "profile-json",
        "just-too-deep",
        "plan",
        "events",
    ],
)
def test_deeply_nested_files_are_refused_in_one_line_naming_the_file(
    all_readers: dict[str, Reader], folder: Path, reader: str, content: str, where: str
) -> None:
    chosen = all_readers[reader]
    (folder / chosen.name).write_text(content, encoding="utf-8")
    for command in chosen.commands:
        args = [str(folder / chosen.name) if arg == "{}" else arg for arg in command]
        assert_refused_naming(backrub(*args), where, "nested too deeply")


def test_nesting_up_to_the_limit_is_read(folder: Path) -> None:
    # The limit refuses only what no backrub file needs: MAX_DEPTH levels are still read (the
    # profile is then refused for its content, naming the key, not for its nesting).
    path = folder / "deep-enough.json"
    path.write_text(nested_json(MAX_DEPTH - 1), encoding="utf-8")
    error = assert_refused_naming(backrub("plan", "--profile", str(path)), "deep-enough.json")
    assert "nested" not in error and "minutes" in error


@pytest.mark.parametrize(
    "args",
    [
        ("check", "d.toml"),
        ("plan", "--profile", "d.json"),
        ("simulate", "--plan", "d.json", "--events", "ok.jsonl"),
        ("simulate", "--plan", "ok.json", "--events", "d.jsonl"),
    ],
    ids=["check", "profile", "plan", "events"],
)
def test_deep_files_exit_2_in_a_real_process(
    run_backrub: RunBackrub, tmp_path: Path, args: tuple[str, ...]
) -> None:
    # The issue's example first; the JSON ones nest past what Python's own parser can follow.
    (tmp_path / "d.toml").write_text("a = " + "[" * 1000 + "]" * 1000 + "\n", encoding="utf-8")
    for name in ("d.json", "d.jsonl"):
        (tmp_path / name).write_text("[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    (tmp_path / "ok.json").write_text(PLAN_JSON, encoding="utf-8")
    (tmp_path / "ok.jsonl").write_text(EVENTS_JSONL, encoding="utf-8")
    result = run_backrub(*args)
    deep = next(arg for arg in args if arg.startswith("d."))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"backrub: error: {deep}"), result.stderr
    assert "nested too deeply" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize("number", ["1e999", "-1e999", "NaN", "Infinity", "-Infinity"])
def test_an_event_at_a_non_finite_time_is_refused_naming_the_line_and_field(
    folder: Path, number: str
) -> None:
    (folder / "plan.json").write_text(PLAN_JSON, encoding="utf-8")
    events = folder / "events.jsonl"
    events.write_text(f'{{"at": 5, "kind": "more"}}\n{{"at": {number}, "kind": "pause"}}\n')
    ran = backrub(
        "simulate", "--plan", str(folder / "plan.json"), "--events", str(events), "--json"
    )
    assert_refused_naming(ran, "events.jsonl: line 2: at", "not a finite number")
    assert ran.out == ""


def test_simulate_with_the_issue_event_prints_no_nan_in_a_real_process(
    run_backrub: RunBackrub, tmp_path: Path
) -> None:
    (tmp_path / "plan.json").write_text(PLAN_JSON, encoding="utf-8")
    (tmp_path / "events.jsonl").write_text('{"at": 1e999, "kind": "pause"}\n')
    result = run_backrub("simulate", "--plan", "plan.json", "--events", "events.jsonl", "--json")
    assert result.returncode == 2 and "NaN" not in result.stdout
    assert result.stderr == "backrub: error: events.jsonl: line 1: at: not a finite number (inf)\n"


@pytest.mark.parametrize(
    ("reader", "content", "where"),
    [
        ("profile-toml", "minutes = nan\n", "profile.toml: minutes"),
        ("profile-toml", "[fit]\nshoulder_width_cm = inf\n", "profile.toml: fit.shoulder_width_cm"),
        ("profile-json", '{"minutes": 1e999}', "profile.json: minutes"),
        (
            "routine",
            ROUTINE_TOML.replace("seconds = 60", "seconds = inf", 1),
            "routine.toml: phase",
        ),
        ("plan", PLAN_JSON.replace('"seconds": ', '"seconds": -Infinity, "x": ', 1), "plan.json"),
    ],
    ids=["toml-nan", "toml-inf", "json-1e999", "routine", "plan"],
)
def test_non_finite_numbers_in_files_are_refused_naming_the_key(
    all_readers: dict[str, Reader], folder: Path, reader: str, content: str, where: str
) -> None:
    assert content not in (ROUTINE_TOML, PLAN_JSON)  # the replacement took place
    chosen = all_readers[reader]
    (folder / chosen.name).write_text(content, encoding="utf-8")
    args = [str(folder / chosen.name) if arg == "{}" else arg for arg in chosen.commands[0]]
    assert_refused_naming(backrub(*args), where, "not a finite number")


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("--minutes", "nan", "--minutes"),
        ("-m", "-inf", "--minutes"),
        ("--shoulder-width", "inf", "--shoulder-width"),
    ],
)
def test_non_finite_options_are_refused_naming_the_option(
    option: str, value: str, named: str
) -> None:
    assert_refused_naming(backrub("plan", option, value, "--json"), named, "finite")


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [("--shoulder-width", "nan", "finite"), ("--back-length", "500", "less than or equal")],
)
def test_atlas_measurements_out_of_range_are_one_line_not_a_traceback(
    option: str, value: str, words: str
) -> None:
    assert_refused_naming(backrub("atlas", option, value, "--json"), option, words)


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ('{"screening": [""]}', "profile.json: screening: must be a table"),
        ('{"screening": null}', "profile.json: screening: must be a table"),
        ('{"fit": "wide"}', "profile.json: fit: must be a table"),
        ('{"a\\nb": 1}', "profile.json: 'a\\nb': "),
        ('{"fit": {"": 1}}', "profile.json: fit.'': "),
    ],
    ids=["screening-list", "screening-null", "fit-text", "newline-key", "empty-key"],
)
def test_profiles_of_the_wrong_shape_are_one_line_naming_the_key(
    folder: Path, content: str, where: str
) -> None:
    # These were a TypeError traceback, and a key holding a newline split the message in two.
    path = folder / "profile.json"
    path.write_text(content, encoding="utf-8")
    for options in ((), ("--shoulder-width", "40")):
        assert_refused_naming(backrub("plan", "--profile", str(path), *options), where)


@pytest.mark.parametrize("command", ["plan", "guide"])
def test_planning_from_a_routine_file_that_breaks_a_rule_is_refused_not_an_assertion(
    folder: Path, command: str
) -> None:
    # Found by the fuzz: without a closing phase the planner stopped on its own safety
    # assertion ("planner broke a rule"), a traceback. `check` reports it; planning refuses it.
    path = folder / "no-closing.toml"
    path.write_text(ROUTINE_TOML[: ROUTINE_TOML.rindex("[[phase]]")], encoding="utf-8")
    assert backrub("check", str(path)).code == 1
    error = assert_refused_naming(backrub(command, "--routine", str(path)), "no-closing.toml: ")
    assert "C1" in error and "backrub check" in error


def test_a_plan_naming_an_unknown_region_is_refused_naming_the_file(folder: Path) -> None:
    plan = folder / "unknown-region.json"
    plan.write_text(PLAN_JSON.replace('"regions": ["', '"regions": ["\u202e', 1), encoding="utf-8")
    (folder / "ok.jsonl").write_text(EVENTS_JSONL, encoding="utf-8")
    ran = backrub("simulate", "--plan", str(plan), "--events", str(folder / "ok.jsonl"))
    assert_refused_naming(ran, "unknown-region.json: steps[0].regions: unknown region '\\u202e")


@pytest.mark.parametrize(
    ("reader", "content", "words"),
    [
        ("events", '{"at": 1' + "0" * 5000 + ', "kind": "more"}\n', "too many digits"),
        ("profile-toml", "minutes = 1" + "0" * 5000 + "\n", "malformed TOML"),
        ("plan", PLAN_JSON.replace('"title": "', '"title": "\\ud800', 1), "lone surrogate"),
        ("profile-json", b'{"minutes": 10, "name": "\xff"}', "not UTF-8"),
        ("routine", b"\xfe\xff" + ROUTINE_TOML.encode("utf-16-be"), "not UTF-8"),
    ],
    ids=["huge-int-json", "huge-int-toml", "surrogate", "latin-1", "utf-16"],
)
def test_unusable_text_and_numbers_are_refused_naming_the_file(
    all_readers: dict[str, Reader], folder: Path, reader: str, content: str | bytes, words: str
) -> None:
    chosen = all_readers[reader]
    path = folder / chosen.name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    args = [str(path) if arg == "{}" else arg for arg in chosen.commands[0]]
    assert_refused_naming(backrub(*args), chosen.name, words)


def test_a_file_over_the_size_cap_is_refused_before_it_is_parsed(folder: Path) -> None:
    path = folder / "huge.jsonl"
    with path.open("wb") as stream:  # sparse: fast to write, and all NUL bytes
        stream.truncate(MAX_FILE_BYTES + 1)
    (folder / "plan.json").write_text(PLAN_JSON, encoding="utf-8")
    ran = backrub("simulate", "--plan", str(folder / "plan.json"), "--events", str(path))
    assert_refused_naming(ran, "huge.jsonl", "larger than 16 MiB")


def test_json_output_never_prints_nan_or_infinity(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        print_json({"worked_seconds": math.nan})
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------------------- fuzzing files


@FUZZ
@given(data=st.data())
def test_fuzzed_routine_files(
    all_readers: dict[str, Reader], folder: Path, data: st.DataObject
) -> None:
    run_reader(all_readers["routine"], folder, data.draw(mutated(ROUTINE_TOML)))


@FUZZ
@given(data=st.data())
def test_fuzzed_profile_files(
    all_readers: dict[str, Reader], folder: Path, data: st.DataObject
) -> None:
    if data.draw(st.booleans()):
        run_reader(all_readers["profile-toml"], folder, data.draw(mutated(PROFILE_TOML)))
        return
    keys = ["minutes", "activities", "pressure", "order", "screening", "fit", "routine"]
    content = data.draw(mutated(PROFILE_JSON) | invented(keys))
    run_reader(all_readers["profile-json"], folder, content)


@FUZZ
@given(data=st.data())
def test_fuzzed_plan_files(
    all_readers: dict[str, Reader], folder: Path, data: st.DataObject
) -> None:
    run_reader(all_readers["plan"], folder, data.draw(mutated(PLAN_JSON)))


@FUZZ
@given(data=st.data())
def test_fuzzed_event_files(
    all_readers: dict[str, Reader], folder: Path, data: st.DataObject
) -> None:
    lines = data.draw(st.lists(invented(["at", "kind", "region", "value"]), max_size=5))
    content = data.draw(mutated(EVENTS_JSONL) | st.just(b"\n".join(lines)))
    run_reader(all_readers["events"], folder, content)
