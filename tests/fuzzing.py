"""What the hostile-input tests share (test_fuzz_files.py: the files the CLI reads;
test_fuzz_api.py: the API's bodies): valid examples of each file, the CLI run in this process,
what a refusal must look like, and hypothesis strategies that bend valid content out of shape.

The CLI runs in-process (Typer's CliRunner streams around `backrub.cli.errors.run`, the real
entry point's error handling) for speed; a few tests run it in a real process too.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from backrub.cli.errors import run
from backrub.cli.main import app
from backrub.datafile import MAX_DEPTH
from backrub.planner import PlanRequest, make_plan

ROUTINES = Path(__file__).resolve().parent.parent / "src" / "backrub" / "method" / "routines"
ROUTINE_TOML = (ROUTINES / "neck-and-shoulders.toml").read_text(encoding="utf-8")
PROFILE_TOML = """\
minutes = 15
activities = ["computer-work"]
trouble_spots = ["upper-trapezius-left"]
pressure = "firm"
order = "problem-first"
[screening]
yes = ["asthma"]
local = [{ region = "shoulder-blade-left", kind = "bruise" }]
[fit]
shoulder_width_cm = 42
skull_to_s2_cm = 60
"""
PROFILE_JSON = json.dumps(
    {
        "minutes": 15,
        "activities": ["computer-work"],
        "pressure": 4,
        "screening": {"yes": ["asthma"]},
        "fit": {"shoulder_width_cm": 42.5},
    }
)
PLAN_JSON = json.dumps(make_plan(PlanRequest(minutes=5)).to_json())
EVENTS_JSONL = """\
{"at": 5, "kind": "more"}
{"at": 60.5, "kind": "knot", "region": "upper-trapezius-left"}
{"at": 90, "kind": "felt", "value": 4}
{"at": 120, "kind": "released"}
{"at": 200, "kind": "pause"}
{"at": 230, "kind": "resume"}
"""

# The words of the shared reader's refusals (datafile.py), each of which must name the file.
READING_PROBLEMS = (
    "bad JSON",
    "malformed TOML",
    "nested too deeply",
    "not a finite number",
    "not UTF-8",
    "lone surrogate",
    "larger than",
    "file not found",
)
# What a refusal looks like on stderr: exactly one line.
ERROR_LINE = re.compile(r"^backrub: error: [^\n]+\n$")


# ---------------------------------------------------------------------------- running the CLI


@dataclass
class Ran:
    code: int
    out: str
    err: str


def backrub(*args: str) -> Ran:
    """`backrub ARGS` in this process: the real command tree and the real error handling (run()
    turns each user error into one line and exit 2; anything else escapes as an exception and
    fails the test, as a traceback would fail a user)."""
    with CliRunner().isolation() as (out, err, _):
        code = run(app, list(args))
        sys.stdout.flush()
        sys.stderr.flush()
        return Ran(code, out.getvalue().decode(), err.getvalue().decode())


def strict_json(text: str) -> Any:
    """JSON as other programs read it: NaN and Infinity are not JSON."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} printed as JSON")

    return json.loads(text, parse_constant=refuse)


def assert_refused_naming(ran: Ran, name: str, *words: str) -> str:
    assert ran.code == 2, (ran.code, ran.err, ran.out[:300])
    assert ERROR_LINE.match(ran.err), ran.err
    assert name in ran.err, ran.err
    for word in words:
        assert word in ran.err, ran.err
    return ran.err


def assert_handled(ran: Ran, name: str, *, as_json: bool) -> None:
    """Whatever the input: exit 0 or 1 with output that is JSON, or exit 2 with one line."""
    assert ran.code in (0, 1, 2), (ran.code, ran.err)
    if ran.code == 2:
        assert ERROR_LINE.match(ran.err), ran.err
        assert "Traceback" not in ran.err
    elif as_json:
        strict_json(ran.out)
    # A file that cannot be read is named. (A file read well may still be refused by the
    # planner, "20 minutes is more than this routine can fill", which names no file.)
    if ran.code == 2 and any(words in ran.err for words in READING_PROBLEMS):
        assert f"{name}: " in ran.err, ran.err


@dataclass
class Reader:
    """One file reader of the CLI: the file's name, a valid example, and the commands reading
    it (the other files they need are valid ones)."""

    name: str
    valid: str
    commands: tuple[tuple[str, ...], ...]


def readers(folder: Path) -> dict[str, Reader]:
    (folder / "ok.json").write_text(PLAN_JSON, encoding="utf-8")
    (folder / "ok.jsonl").write_text(EVENTS_JSONL, encoding="utf-8")
    plan, events = str(folder / "ok.json"), str(folder / "ok.jsonl")
    return {
        "routine": Reader(
            "routine.toml",
            ROUTINE_TOML,
            (("check", "{}", "--json"), ("plan", "--routine", "{}", "--json")),
        ),
        "profile-toml": Reader(
            "profile.toml", PROFILE_TOML, (("plan", "--profile", "{}", "--json"),)
        ),
        "profile-json": Reader(
            "profile.json", PROFILE_JSON, (("plan", "--profile", "{}", "--json"),)
        ),
        "plan": Reader(
            "plan.json",
            PLAN_JSON,
            (("simulate", "--plan", "{}", "--events", events, "--json"), ("guide", "--plan", "{}")),
        ),
        "events": Reader(
            "events.jsonl",
            EVENTS_JSONL,
            (("simulate", "--plan", plan, "--events", "{}", "--json"),),
        ),
    }


def run_reader(reader: Reader, folder: Path, content: bytes) -> None:
    path = folder / reader.name
    path.write_bytes(content)
    for command in reader.commands:
        args = [str(path) if arg == "{}" else arg for arg in command]
        ran = backrub(*args)
        event(f"{command[0]}: exit {ran.code}")  # --hypothesis-show-statistics: the mix
        assert_handled(ran, reader.name, as_json="--json" in args)


# ---------------------------------------------------------------------------- hostile content

# Bounded so each fuzzing module runs in about a minute; derandomized so CI sees the same cases.
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NASTY_NUMBERS = [
    "1e999", "-1e999", "nan", "inf", "-inf", "+inf", "NaN", "Infinity", "-Infinity",
    "1" + "0" * 5000, "1e308", "-0.0", "0", "-1", "4.9e-324", "1.7976931348623157e308",
    "99999999999999999999", "0x7fffffff", '"1e999"', "true", "null", "[]", "{}",
]  # fmt: skip
NASTY_TEXT = [
    "\x00", "\\ud800", "\\udfff", "\u202e", "\ufeff", "'", '"', "\\", "\n", "\r", "[[", "]]",
    "{", "}", "=", ",", "#", "é" * 2000, "a" * 70_000,
]  # fmt: skip
NASTY_BYTES = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\x80"]
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])")


@st.composite
def nesting(draw: st.DrawFn) -> str:
    depth = draw(st.sampled_from([MAX_DEPTH - 2, MAX_DEPTH + 1, 200, 999, 1500, 20_000]))
    opener, closer = draw(st.sampled_from([("[", "]"), ("{a = ", "}"), ('{"a": ', "}")]))
    return opener * depth + "1" + closer * depth


@st.composite
def mutated(draw: st.DrawFn, valid: str) -> bytes:
    """A valid file with one to three hostile changes: a number swapped for a non-finite or
    huge one, a value swapped for deep nesting, garbage spliced in, bytes that are not UTF-8,
    a cut anywhere, or a line repeated many times."""
    text = valid
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["number", "nest", "text", "bytes", "cut", "repeat"]))
        numbers = list(NUMBER.finditer(text))
        if kind == "number" and numbers:
            found = draw(st.sampled_from(numbers))
            text = (
                text[: found.start()] + draw(st.sampled_from(NASTY_NUMBERS)) + text[found.end() :]
            )
        elif kind == "nest" and numbers:
            found = draw(st.sampled_from(numbers))
            text = text[: found.start()] + draw(nesting()) + text[found.end() :]
        elif kind == "text":
            at = draw(st.integers(0, len(text)))
            junk = draw(st.sampled_from(NASTY_TEXT) | st.text(max_size=20))
            text = text[:at] + junk + text[at:]
        elif kind == "repeat":
            lines = text.splitlines(keepends=True) or [text]
            line = draw(st.sampled_from(lines))
            # Up to about a megabyte more: huge for a backrub file, cheap for the test.
            times = draw(st.sampled_from([2, 100, 5000]))
            text = text + line * min(times, 1_000_000 // max(len(line), 1))
        elif kind == "cut":
            text = text[: draw(st.integers(0, len(text)))]
    raw = text.encode("utf-8", errors="surrogatepass")
    if draw(st.booleans()) and draw(st.booleans()):
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from(NASTY_BYTES)) + raw[at:]
    return raw


JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and the infinities included: json.dumps writes them as NaN, Infinity
    | st.text(max_size=30)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


def invented(keys: list[str]) -> st.SearchStrategy[bytes]:
    """Whole documents made up: an object whose keys are mostly the reader's own."""
    document = st.dictionaries(st.sampled_from(keys) | st.text(max_size=8), JSON_VALUES, max_size=6)
    return document.map(lambda data: json.dumps(data).encode("utf-8")) | st.binary(max_size=200)
