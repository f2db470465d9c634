"""`backrub plan`: make a plan from options or a profile file; table, JSON or SVG."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from backrub.atlas import default_atlas
from backrub.cli import plan_options as options
from backrub.cli.errors import EXIT_OK, EXIT_REFUSED
from backrub.cli.output import print_json, write_text_atomically
from backrub.cli.profile import build_request
from backrub.method.words import vocabulary
from backrub.planner import Plan, PlanStatus, make_plan

if TYPE_CHECKING:
    from rich.console import Console

# Rich and the SVG renderer are imported where they are used: `--json` needs neither.

_SIDE_MARK = {"left": " (L)", "right": " (R)", "both": " (both)", "midline": ""}


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def plan(
    minutes: options.Minutes = None,
    activity: options.Activities = None,
    trouble: options.TroubleSpots = None,
    pressure: options.Pressure = None,
    order: options.Order = None,
    yes: options.Yes = None,
    local: options.Local = None,
    routine: options.RoutineName = None,
    shoulder_width: options.ShoulderWidth = None,
    back_length: options.BackLength = None,
    profile: options.Profile = None,
    receiver: options.Receiver = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the plan as JSON (docs/plan-json.md).")
    ] = False,
    svg: Annotated[
        Path | None,
        typer.Option("--svg", help="Also draw the plan on the back map into this SVG file."),
    ] = None,
) -> int:
    """Plan a session: ordered, timed, balanced steps that fit the time budget."""
    saved = None
    if receiver is not None:
        from backrub.cli.saved import saved_receiver

        saved = saved_receiver(receiver, profile)
    request = build_request(
        profile,
        saved=saved.choices if saved else None,
        overrides=options.plan_overrides(
            minutes=minutes,
            activity=activity,
            trouble=trouble,
            pressure=pressure,
            order=order,
            yes=yes,
            local=local,
            routine=routine,
            shoulder_width=shoulder_width,
            back_length=back_length,
        ),
    )
    result = make_plan(request, history=saved.history if saved else ())
    atlas = default_atlas()
    if svg is not None and result.status is PlanStatus.READY:
        from backrub.render import draw_plan

        title = f"{result.routine_title}: {request.minutes:g} minutes"
        write_text_atomically(svg, draw_plan(atlas, result.steps, title=title))
    if as_json:
        print_json(result.to_json(atlas))
    else:
        from rich.console import Console

        show_plan(result, Console())
        if svg is not None and result.status is PlanStatus.READY:
            Console(stderr=True).print(f"Drawn on the back map: {svg}")
    return EXIT_REFUSED if result.status is PlanStatus.REFUSED else EXIT_OK


def show_plan(result: Plan, console: Console) -> None:
    from rich.table import Table

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
