"""`backrub plan`: make a plan from options or a profile file; table, JSON or SVG."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from backrub.atlas import default_atlas
from backrub.cli.errors import EXIT_OK, EXIT_REFUSED
from backrub.cli.output import print_json, write_text_atomically
from backrub.cli.profile import build_request, parse_pressure
from backrub.method.words import vocabulary
from backrub.planner import Plan, PlanStatus, make_plan
from backrub.render import draw_plan
from backrub.safety.screening import parse_local_problem

_SIDE_MARK = {"left": " (L)", "right": " (R)", "both": " (both)", "midline": ""}


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def plan(
    minutes: Annotated[
        float | None,
        typer.Option("--minutes", "-m", help="Time budget, 5 to 90 minutes (default 20)."),
    ] = None,
    activity: Annotated[
        list[str] | None,
        typer.Option(
            "--activity", "-a", help="An activity of the receiver, e.g. computer-work (repeatable)."
        ),
    ] = None,
    trouble: Annotated[
        list[str] | None,
        typer.Option(
            "--trouble",
            "-t",
            help="A trouble spot, by region id, e.g. upper-trapezius-left (repeatable).",
        ),
    ] = None,
    pressure: Annotated[
        str | None,
        typer.Option(
            "--pressure",
            "-p",
            help="Preferred pressure: 1-5 or feather, light, moderate, firm, deep.",
        ),
    ] = None,
    order: Annotated[
        str | None,
        typer.Option(
            "--order", "-o", help="top-down (default), upper-lower-neck or problem-first."
        ),
    ] = None,
    yes: Annotated[
        list[str] | None,
        typer.Option(
            "--yes",
            "-y",
            help="A screening question answered yes, by id; see `backrub questions` (repeatable).",
        ),
    ] = None,
    local: Annotated[
        list[str] | None,
        typer.Option(
            "--local",
            help="A local problem as REGION:KIND, e.g. shoulder-blade-left:bruise (repeatable).",
        ),
    ] = None,
    routine: Annotated[
        str | None,
        typer.Option(
            "--routine",
            "-r",
            help="Built-in routine name (classic, neck-and-shoulders) or a routine file.",
        ),
    ] = None,
    shoulder_width: Annotated[
        float | None,
        typer.Option("--shoulder-width", help="Receiver's shoulder width, tip to tip, in cm."),
    ] = None,
    back_length: Annotated[
        float | None,
        typer.Option("--back-length", help="Receiver's back length, base of skull to S2, in cm."),
    ] = None,
    profile: Annotated[
        Path | None,
        typer.Option(
            "--profile", help="A receiver profile file (TOML or JSON); options override it."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the plan as JSON (docs/plan-json.md).")
    ] = False,
    svg: Annotated[
        Path | None,
        typer.Option("--svg", help="Also draw the plan on the back map into this SVG file."),
    ] = None,
) -> int:
    """Plan a session: ordered, timed, balanced steps that fit the time budget."""
    request = build_request(
        profile,
        {
            "minutes": minutes,
            "activities": tuple(activity or ()),
            "trouble_spots": tuple(trouble or ()),
            "pressure": parse_pressure(pressure) if pressure is not None else None,
            "order": order,
            "yes": frozenset(yes or ()),
            "local": tuple(parse_local_problem(text) for text in local or ()),
            "routine": routine,
            "shoulder_width_cm": shoulder_width,
            "skull_to_s2_cm": back_length,
        },
    )
    result = make_plan(request)
    atlas = default_atlas()
    if svg is not None and result.status is PlanStatus.READY:
        title = f"{result.routine_title}: {request.minutes:g} minutes"
        write_text_atomically(svg, draw_plan(atlas, result.steps, title=title))
    if as_json:
        print_json(result.to_json(atlas))
    else:
        show_plan(result, Console())
        if svg is not None and result.status is PlanStatus.READY:
            Console(stderr=True).print(f"Drawn on the back map: {svg}")
    return EXIT_REFUSED if result.status is PlanStatus.REFUSED else EXIT_OK


def show_plan(result: Plan, console: Console) -> None:
    screening = result.screening
    if result.status is PlanStatus.REFUSED:
        console.print(f"[bold red]{screening.outcome.heading}[/]")
        for finding in screening.findings:
            console.print(f"  - {finding.reason}")
        return
    atlas = default_atlas()
    words = vocabulary()
    request = result.request
    table = Table(
        title=f"{result.routine_title}: {request.minutes:g} minutes "
        f"({_clock(result.total_seconds)} planned)",
        caption="Phases: " + " -> ".join(dict.fromkeys(s.phase.value for s in result.steps)),
        expand=True,
    )
    wide = console.width >= 120
    table.add_column("#", justify="right", no_wrap=True)
    if wide:
        table.add_column("at", no_wrap=True)
    table.add_column("for", no_wrap=True)
    table.add_column("what, where", ratio=3)
    table.add_column("pressure", no_wrap=True)
    table.add_column("cue", ratio=3)
    for number, (step, start) in enumerate(zip(result.steps, result.starts(), strict=True), 1):
        where = ", ".join(dict.fromkeys(atlas.region(r).base for r in step.regions))
        side = _SIDE_MARK[step.side.value]
        what = f"{step.technique.value} with {step.contact.value}: {where}{side}"
        timing = [_clock(start), _clock(step.seconds)] if wide else [_clock(step.seconds)]
        table.add_row(
            str(number),
            *timing,
            what,
            f"{int(step.pressure)} {words.pressure_word(step.pressure)}",
            step.cue,
        )
    console.print(table)
    if screening.findings:
        console.print(f"[bold]Screening:[/] {screening.summary()}")
    for item in result.left_out:
        console.print(f"[yellow]Left out[/] {item.kind} {item.name}: {item.reason}")
    for note in result.notes:
        console.print(f"[dim]{note}[/]")
