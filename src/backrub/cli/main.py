"""The `backrub` command: builds core objects and hands off to the planner, rules and renderer."""

from __future__ import annotations

import sys

import typer

from backrub import __version__
from backrub.cli.atlas_command import atlas
from backrub.cli.check_command import check
from backrub.cli.errors import run
from backrub.cli.guide_command import guide
from backrub.cli.lists_command import activities, questions, routines
from backrub.cli.plan_command import plan
from backrub.cli.robot_command import robot_app
from backrub.cli.serve_command import serve
from backrub.cli.session_commands import history, show, simulate

app = typer.Typer(
    name="backrub",
    help="Guide a seated, clothed back massage: plan it, check routines, map the back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(plan)
app.command()(check)
app.command()(atlas)
app.command()(questions)
app.command()(activities)
app.command()(routines)
app.command()(guide)
app.command()(simulate)
app.command()(history)
app.command()(show)
app.command()(serve)
app.add_typer(robot_app)


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


def main() -> None:
    sys.exit(run(app))
