"""`backrub check ROUTINE.toml`: validate a routine file and judge it against every hard rule."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from backrub.cli.errors import EXIT_OK, EXIT_REFUSED
from backrub.cli.output import print_json
from backrub.method.routine import load_routine
from backrub.safety import RULES, judge_routine

CHECK_SCHEMA = "backrub.check"
CHECK_VERSION = 1


def check(
    routine_file: Annotated[
        str,
        typer.Argument(
            help="A routine file (TOML), or a built-in routine's name.", metavar="ROUTINE"
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
) -> int:
    """Check a routine: exit 0 when it is valid and safe, 1 listing every broken rule."""
    if not routine_file.endswith(".toml") and not Path(routine_file).exists():
        routine = load_routine(routine_file)
    else:
        routine = load_routine(str(Path(routine_file)))
    violations = judge_routine(routine)
    minutes = sum(step.seconds for step in routine.steps) / 60
    if as_json:
        print_json(
            {
                "schema": CHECK_SCHEMA,
                "version": CHECK_VERSION,
                "routine": routine.id,
                "source": routine.source,
                "ok": not violations,
                "steps": len(routine.steps),
                "minutes": round(minutes, 1),
                "rules_checked": [rule.id for rule in RULES],
                "violations": [v.model_dump(mode="json") for v in violations],
            }
        )
    else:
        console = Console()
        if violations:
            console.print(f"[bold red]{routine.source}: {len(violations)} broken rule(s)[/]")
            for violation in violations:
                console.print(f"  {violation.one_line()}", highlight=False)
        else:
            console.print(
                f"[green]ok[/] {routine.source}: '{routine.title}' is valid and keeps all "
                f"{len(RULES)} hard rules ({len(routine.steps)} steps, {minutes:.1f} minutes)",
                highlight=False,
            )
    return EXIT_REFUSED if violations else EXIT_OK
