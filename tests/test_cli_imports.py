"""The command line starts at once: a command's heavy modules load only when it runs.

`backrub --help` must not import the geometry (numpy, shapely), the web stack or the store, and
the list of commands it shows (kept in `cli/main.py` for that) must say what each command's own
help says, and name every command there is. `backrub plan --json` reads the geometry's answers
from the atlas's derived file (atlas.derived), so it loads neither shapely nor numpy, and prints
exactly what it prints when shapely answers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest
import typer

from backrub.cli.errors import run
from backrub.cli.main import COMMANDS, app, load_command

HEAVY = ("numpy", "shapely", "fastapi", "starlette", "sqlalchemy", "uvicorn", "rich", "pydantic")


def _printed_by(child: str) -> Any:
    """Run `child` in a fresh interpreter; the JSON it printed."""
    done = subprocess.run(
        [sys.executable, "-c", child],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _loaded_after(*args: str) -> list[str]:
    """The heavy top-level packages in sys.modules after running `backrub ARGS` in-process, in a
    fresh interpreter (so nothing an earlier test imported counts)."""
    child = textwrap.dedent(
        f"""
        import contextlib, io, json, sys
        from backrub.cli.errors import run
        from backrub.cli.main import app
        with contextlib.redirect_stdout(io.StringIO()):
            code = run(app, {list(args)!r})
        assert code == 0, code
        loaded = {{name.split(".")[0] for name in sys.modules}}
        print(json.dumps(sorted(loaded & set({HEAVY!r}))))
        """
    )
    loaded: list[str] = _printed_by(child)
    return loaded


def test_help_imports_no_geometry_web_stack_store_or_rich() -> None:
    assert _loaded_after("--help") == []


PLANS = [
    ["plan", "--minutes", "20", "--json"],
    ["plan", "-m", "10", "--json"],
    ["plan", "-m", "60", "-a", "computer-work", "-a", "running", "--json"],
    ["plan", "-m", "90", "-t", "upper-trapezius-left", "-t", "paraspinal-lower-right", "--json"],
    ["plan", "-m", "30", "-r", "neck-and-shoulders", "-p", "firm", "--json"],
    ["plan", "-m", "60", "-o", "problem-first", "-t", "shoulder-blade-left", "--json"],
    ["plan", "-m", "75", "-y", "asthma", "--local", "neck-left:sunburn", "--json"],
    ["plan", "-m", "25", "--shoulder-width", "46", "--back-length", "62", "--json"],
]


@pytest.mark.parametrize("args", [PLANS[0], PLANS[3], PLANS[4]], ids=lambda a: " ".join(a))
def test_a_plan_as_json_needs_no_geometry_web_stack_store_or_rich(args: list[str]) -> None:
    assert set(_loaded_after(*args)) <= {"pydantic"}


# Loaded only when asked for: a saved receiver and their past sessions (history, lessons), a TOML
# file to parse, pydantic's serializer helpers (the plan needs none); and the screening
# questions are read only when an answer is given.
LAZY = (
    "backrub.planner.history",
    "backrub.planner.lessons",
    "backrub.cli.saved",
    "tomllib",
    "pydantic.functional_serializers",
)


def test_a_plan_without_a_past_toml_or_answers_loads_none_of_them() -> None:
    child = textwrap.dedent(
        f"""
        import contextlib, io, json, sys
        from backrub.cli.errors import run
        from backrub.cli.main import app
        with contextlib.redirect_stdout(io.StringIO()):
            assert run(app, {PLANS[0]!r}) == 0
        from backrub.safety import screening
        loaded = [name for name in {LAZY!r} if name in sys.modules]
        print(json.dumps([loaded, screening._screening_file.cache_info().currsize]))
        """
    )
    assert _printed_by(child) == [[], 0]


def test_main_pauses_the_collector_only_while_the_command_loads() -> None:
    """`main` starts with the cycle collector off; once the command is loaded what exists is
    frozen and the collector is back on for the command's own work. A program that runs the
    app itself keeps its collector as it was."""
    child = textwrap.dedent(
        """
        import contextlib, gc, io, json
        from backrub.cli import main
        seen = []
        real = main.load_command
        main.load_command = lambda name: (seen.append(gc.isenabled()), real(name))[1]
        with contextlib.redirect_stdout(io.StringIO()):
            assert main.run(main.app, ["plan", "-m", "20", "--json"]) == 0
        untouched = [gc.isenabled(), gc.get_freeze_count()]
        main._collector.pause()
        with contextlib.redirect_stdout(io.StringIO()):
            assert main.run(main.app, ["plan", "-m", "20", "--json"]) == 0
        print(json.dumps([untouched, seen, gc.isenabled(), gc.get_freeze_count() > 0]))
        """
    )
    assert _printed_by(child) == [[True, 0], [True, False], True, True]


def test_the_entry_point_starts_with_the_collector_off() -> None:
    child = textwrap.dedent(
        """
        import gc, json, sys
        import backrub.cli.start
        print(json.dumps([gc.isenabled(), "typer" in sys.modules]))
        """
    )
    assert _printed_by(child) == [False, True]


def _plans_printed(*, shapely: bool) -> list[str]:
    """What each of PLANS prints, in a fresh interpreter: from the derived file, or with the
    file ignored so shapely answers. A process of its own, so the shared atlas every other test
    in this process holds (`default_atlas()`) is never read again behind their backs."""
    child = textwrap.dedent(
        f"""
        import contextlib, io, json
        from backrub.atlas import default_atlas, derived
        from backrub.cli.errors import run
        from backrub.cli.main import app
        if {shapely!r}:
            derived.load = lambda atlas_text: None
        outputs = []
        for args in {PLANS!r}:
            with contextlib.redirect_stdout(io.StringIO()) as out:
                assert run(app, args) == 0, args
            outputs.append(out.getvalue())
        assert default_atlas().answers.from_file is (not {shapely!r})
        print(json.dumps(outputs))
        """
    )
    printed: list[str] = _printed_by(child)
    return printed


def test_a_plan_as_json_is_the_same_when_shapely_answers() -> None:
    from_the_file = _plans_printed(shapely=False)
    assert from_the_file == _plans_printed(shapely=True)
    assert all(text.startswith("{") for text in from_the_file)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_loads_and_its_one_line_help_is_the_listed_one(name: str) -> None:
    command = load_command(name)
    assert command is not None and command.name == name
    first_paragraph = (command.help or "").split("\n\n")[0]
    assert " ".join(first_paragraph.split()) == COMMANDS[name].summary


def test_every_command_of_the_app_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    group = typer.main.get_command(app)
    context = typer.Context(group)
    assert group.list_commands(context) == list(COMMANDS)
    assert run(app, ["--help"]) == 0
    shown = capsys.readouterr().out
    for name, entry in COMMANDS.items():
        assert name in shown
        assert entry.summary.split()[0] in shown
    assert load_command("no-such-command") is None


def test_commands_from_main_but_the_server_go_without_pydantic_plugins() -> None:
    """Pydantic's plugin search reads every installed package's metadata; a command run from
    `main` skips it, except the server (someone may observe its validation). A program that
    runs the app itself, or a user who set the variable, decides for themselves."""
    child = textwrap.dedent(
        """
        import contextlib, io, json, os
        from backrub.cli import main
        seen = []
        def plan_and(args, preset=None):
            os.environ.pop("PYDANTIC_DISABLE_PLUGINS", None)
            if preset is not None:
                os.environ["PYDANTIC_DISABLE_PLUGINS"] = preset
            main._collector.paused = True
            with contextlib.redirect_stdout(io.StringIO()):
                assert main.run(main.app, args) == 0
            seen.append(os.environ.get("PYDANTIC_DISABLE_PLUGINS"))
        plan_and(["serve", "--help"])
        plan_and(["plan", "-m", "20", "--json"], preset="")
        plan_and(["plan", "-m", "20", "--json"])
        os.environ.pop("PYDANTIC_DISABLE_PLUGINS")
        with contextlib.redirect_stdout(io.StringIO()):
            assert main.run(main.app, ["plan", "-m", "20", "--json"]) == 0
        seen.append(os.environ.get("PYDANTIC_DISABLE_PLUGINS"))
        print(json.dumps(seen))
        """
    )
    assert _printed_by(child) == [None, "", "__all__", None]
