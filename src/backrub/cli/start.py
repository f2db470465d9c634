"""The `backrub` command's entry point (pyproject's [project.scripts]).

The cycle collector is switched off before anything else is imported, Typer included: loading a
command creates tens of thousands of objects that live as long as the process, and `main` keeps
it off until the command is loaded (see `cli.main._Collector`). A module of its own so that
importing `backrub.cli.main` (as the tests and `python -m backrub` do) changes nothing.
"""

import gc

gc.disable()

from backrub.cli.main import main  # noqa: E402  (after the collector is off, on purpose)

__all__ = ["main"]
