"""Small look-up commands: screening questions, activities, built-in routines."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from backrub.cli.errors import fail
from backrub.cli.output import print_json
from backrub.method.pairs import used_pairs
from backrub.method.routine import BUILT_IN_ROUTINES, built_in_routine
from backrub.planner.activities import activities as all_activities
from backrub.render.techniques import picture_name, pictures_index, technique_svg
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


PicturesOption = Annotated[
    Path | None,
    typer.Option(
        "--pictures",
        metavar="DIR",
        help="Also write a picture of every technique the routines use into DIR (made if "
        "missing): one SVG per technique and contact, and an index.html showing them all.",
    ),
]


def write_pictures(folder: Path) -> int:
    """Every pair's picture and the index page into `folder`; how many pictures were written."""
    if folder.exists() and not folder.is_dir():
        fail(f"--pictures: {folder} is a file, not a folder; name a folder to write pictures to")
    pairs = used_pairs()
    # Drawn before anything is written, so a failure leaves no half-filled folder.
    files = {picture_name(pair): technique_svg(pair) for pair in pairs}
    files["index.html"] = pictures_index(pairs)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"--pictures: cannot write to {folder}: {error.strerror or error}")
    return len(pairs)


def routines(as_json: JsonOption = False, pictures: PicturesOption = None) -> None:
    """The built-in routines (--routine NAME), and with --pictures DIR their technique pictures."""
    if pictures is not None:
        count = write_pictures(pictures)
        print(f"Wrote {count} technique pictures and index.html to {pictures}", file=sys.stderr)
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
