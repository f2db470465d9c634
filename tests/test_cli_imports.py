"""The command line starts at once: a command's heavy modules load only when it runs.

`backrub --help` must not import the geometry (numpy, shapely), the web stack or the store, and
the list of commands it shows (kept in `cli/main.py` for that) must say what each command's own
help says, and name every command there is.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import typer

from backrub.cli.errors import run
from backrub.cli.main import COMMANDS, app, load_command

HEAVY = ("numpy", "shapely", "fastapi", "starlette", "sqlalchemy", "uvicorn", "rich", "pydantic")


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
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_help_imports_no_geometry_web_stack_store_or_rich() -> None:
    assert _loaded_after("--help") == []


def test_a_plan_as_json_needs_no_web_stack_store_or_rich() -> None:
    loaded = _loaded_after("plan", "--minutes", "20", "--json")
    assert not set(loaded) & {"fastapi", "starlette", "sqlalchemy", "uvicorn", "rich"}


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
