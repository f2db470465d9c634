"""Small look-up commands: screening questions, activities, built-in routines."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from backrub.cli.output import print_json
from backrub.method.routine import BUILT_IN_ROUTINES, built_in_routine
from backrub.planner.activities import activities as all_activities
from backrub.safety.screening import local_checks, screening_questions

JsonOption = Annotated[bool, typer.Option("--json", help="Print as JSON.")]


def questions(as_json: JsonOption = False) -> None:
    """The screening questions and what a yes means (--yes ID, --local REGION:KIND)."""
    items = screening_questions()
    checks = local_checks()
    if as_json:
        print_json(
            {
                "schema": "backrub.questions",
                "version": 1,
                "questions": [
                    {"id": q.id, "text": q.text, "outcome": q.outcome.value, "reason": q.reason}
                    for q in items
                ],
                "local_problems": [
                    {"kind": c.kind.value, "text": c.text, "reason": c.reason} for c in checks
                ],
            }
        )
        return
    table = Table(title="Screening questions (X5): answer yes with --yes ID")
    for column in ("id", "question", "if yes"):
        table.add_column(column, overflow="fold")
    for item in items:
        table.add_row(item.id, item.text, item.outcome.value)
    console = Console()
    console.print(table)
    console.print(
        "Local problems take one region out: --local REGION:KIND with KIND one of "
        + ", ".join(c.kind.value for c in checks)
    )


def activities(as_json: JsonOption = False) -> None:
    """Activities the planner knows, and the area each gives more time to."""
    known = all_activities()
    if as_json:
        print_json(
            {
                "schema": "backrub.activities",
                "version": 1,
                "activities": [
                    {"id": key, "label": a.label, "area": a.area.value} for key, a in known.items()
                ],
            }
        )
        return
    table = Table(title="Activities (--activity ID)")
    for column in ("id", "activity", "more time on"):
        table.add_column(column)
    for key, item in known.items():
        table.add_row(key, item.label, item.area.value)
    Console().print(table)


def routines(as_json: JsonOption = False) -> None:
    """The built-in routines (--routine NAME)."""
    found = [built_in_routine(name) for name in BUILT_IN_ROUTINES]
    if as_json:
        print_json(
            {
                "schema": "backrub.routines",
                "version": 1,
                "routines": [
                    {
                        "id": r.id,
                        "title": r.title,
                        "summary": r.data.summary,
                        "minutes": r.data.minutes,
                        "steps": len(r.steps),
                    }
                    for r in found
                ],
            }
        )
        return
    table = Table(title="Built-in routines (--routine NAME)")
    for column in ("name", "title", "minutes", "summary"):
        table.add_column(column, overflow="fold")
    for item in found:
        table.add_row(item.id, item.title, str(item.data.minutes), item.data.summary)
    Console().print(table)
