"""The `backrub` command: builds core objects and hands off to the planner, rules and renderer.

The commands are listed here by name, module and one-line help, and a command's module is
imported only when that command runs or shows its own help: `backrub --help` and a command that
needs neither the geometry (numpy, shapely) nor the web stack nor the store start without them.
Help is plain text (Typer's Rich help would cost more than importing Typer itself).
`tests/test_cli_imports.py` checks that the one-line help here matches each command's own.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from typing import TYPE_CHECKING, NamedTuple

import typer
from typer.core import TyperGroup

from backrub import __version__
from backrub.cli.errors import run

if TYPE_CHECKING:
    from typer import _click as click  # the click Typer carries


class Entry(NamedTuple):
    module: str  # where the command lives
    attribute: str  # its function, or its Typer app (a group of commands)
    summary: str  # the first line of its help, for `backrub --help`


COMMANDS = {
    "plan": Entry(
        "backrub.cli.plan_command",
        "plan",
        "Plan a session: ordered, timed, balanced steps that fit the time budget.",
    ),
    "check": Entry(
        "backrub.cli.check_command",
        "check",
        "Check a routine: exit 0 when it is valid and safe, 1 listing every broken rule.",
    ),
    "atlas": Entry(
        "backrub.cli.atlas_command",
        "atlas",
        "Show the back atlas: every region the method names, bone and caution zones included.",
    ),
    "questions": Entry(
        "backrub.cli.lists_command",
        "questions",
        "The screening questions and what a yes means (--yes ID, --local REGION:KIND).",
    ),
    "activities": Entry(
        "backrub.cli.lists_command",
        "activities",
        "Activities the planner knows, and the area each gives more time to.",
    ),
    "routines": Entry(
        "backrub.cli.lists_command",
        "routines",
        "The built-in routines (--routine NAME), and with --pictures DIR their technique pictures.",
    ),
    "guide": Entry(
        "backrub.cli.guide_command",
        "guide",
        "Guide a session live: the step, where and how firm, with single-key feedback.",
    ),
    "simulate": Entry(
        "backrub.cli.session_commands",
        "simulate",
        "Replay a plan against scripted feedback, headless: the same engine as the live guides.",
    ),
    "history": Entry(
        "backrub.cli.session_commands",
        "history",
        "Past sessions, newest first, with a one-line summary each.",
    ),
    "show": Entry(
        "backrub.cli.session_commands",
        "show",
        "One session: time per region and side, knots found and released, what was left out.",
    ),
    "serve": Entry(
        "backrub.cli.serve_command",
        "serve",
        "Serve the web app: plan, guide a session on a phone, look back. Ctrl-C stops it.",
    ),
    "robot": Entry(
        "backrub.cli.robot_command",
        "robot_app",
        "Turn a plan into a force-checked robot tool path (CSV, MCAP, SVG) or simulate it.",
    ),
}


def load_command(name: str) -> click.Command | None:
    """The click command for `name`, its module imported now; None for an unknown name."""
    entry = COMMANDS.get(name)
    if entry is None:
        return None
    target = getattr(importlib.import_module(entry.module), entry.attribute)
    # Registered on a root of its own, as it would be on the whole app, and taken back out.
    holder = typer.Typer(add_completion=False, rich_markup_mode=None)
    holder.callback()(_holder)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name=name)(target)
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)
    return group.commands[name]


def _holder() -> None:
    """A root with a callback is a group even with one command."""


class LazyCommands(TyperGroup):
    """The root group: lists the commands from `COMMANDS`, loads one only when it is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if _collector.paused and cmd_name not in _OBSERVED:
            _without_pydantic_plugins()
        command = load_command(cmd_name)
        _collector.resume()
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, entry.summary) for name, entry in COMMANDS.items()])


app = typer.Typer(
    name="backrub",
    help="Guide a seated, clothed back massage: plan it, check routines, map the back.",
    cls=LazyCommands,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"backrub {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Guide a seated, clothed back massage: plan it, check routines, map the back."""


class _Collector:
    """Python's cycle collector, off while `main` loads a command.

    Loading a command creates tens of thousands of objects that live as long as the process
    (modules, classes, pydantic's validators), and the collector would walk them again and again
    as they pile up, then once more at exit: about a tenth of `backrub plan`'s start. Once the
    command is loaded, what exists is frozen (`gc.freeze`: never walked again) and the collector
    runs as usual for the command's own work, which can last hours (a live session, the server).
    Only `main` pauses it: a program (or test) that runs the app itself keeps its own collector.
    """

    paused = False

    def pause(self) -> None:
        self.paused = True
        gc.disable()

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            gc.freeze()
            gc.enable()


_collector = _Collector()

# The commands whose validation someone may want to watch with a pydantic plugin: the server.
_OBSERVED = frozenset({"serve"})


def _without_pydantic_plugins() -> None:
    """Pydantic looks for plugins (package entry points) the first time it builds a validator:
    a read of every installed distribution's metadata, about a tenth of `backrub plan`'s start.
    Plugins are hooks to observe an application's validation (logfire's, for one); a command
    run from `main` (not the server) validates only its own options and shipped data, so it
    goes without them, as Typer does for its option converters. A value already set by the
    user is kept."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def main() -> None:
    _collector.pause()
    sys.exit(run(app))
