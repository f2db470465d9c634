"""How the CLI reports problems: one line on stderr and a clear exit code, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn

import typer

from backrub.errors import BackrubError

EXIT_OK = 0
EXIT_REFUSED = 1  # valid input, but the answer is no (unsafe routine, refused session)
EXIT_BAD_INPUT = 2


def fail(message: str) -> NoReturn:
    print(f"backrub: error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_BAD_INPUT)


def run(app: typer.Typer, args: list[str] | None = None) -> int:
    """Run the Typer app so that every user error becomes one line and exit code 2."""
    command: Callable[..., object] = typer.main.get_command(app).main
    try:
        result = command(args=args, prog_name="backrub", standalone_mode=False)
    except typer.Abort:
        print("backrub: aborted", file=sys.stderr)
        return 130
    except typer.TyperException as error:
        # Typer's usage errors (unknown option, bad value); with no arguments, the help.
        if type(error).__name__ == "NoArgsIsHelpError":
            print(error.format_message())
            return EXIT_BAD_INPUT
        print(f"backrub: error: {error.format_message()}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BackrubError as error:
        print(f"backrub: error: {error.one_line()}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return result if isinstance(result, int) else EXIT_OK
