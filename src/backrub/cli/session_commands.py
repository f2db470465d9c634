"""`backrub simulate`, `history` and `show`: sessions replayed, listed and looked back on."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from backrub.atlas import default_atlas
from backrub.cli.errors import EXIT_OK
from backrub.cli.output import print_json
from backrub.cli.plan_file import read_plan
from backrub.errors import BackrubError, DataFileError
from backrub.planner import Plan, PlanStatus
from backrub.session import Event, EventKind, SessionEngine, SessionOver, SessionStatus, verdicts
from backrub.session.script import read_events
from backrub.session.summary import reactions, summarize, timeline

if TYPE_CHECKING:
    # The store pulls in SQLAlchemy and Alembic; commands that need it import it when run,
    # so `backrub plan` and friends start quickly.
    from backrub.store import SessionRecord, Store

SIMULATION_SCHEMA = "backrub.simulation"
SIMULATION_VERSION = 1
HISTORY_SCHEMA = "backrub.history"
SESSION_SCHEMA = "backrub.session"
SUMMARY_VERSION = 1


def read_runnable_plan(path: Path) -> Plan:
    """A plan file with steps to run: one that screening refused has none."""
    plan = read_plan(path)
    if plan.status is PlanStatus.REFUSED:
        raise DataFileError(
            "screening refused this plan; there is no session to run", where=str(path)
        )
    return plan


def replay(
    plan: Plan, events: list[Event], *, source: str, to_the_end: bool
) -> tuple[SessionEngine, list[dict[str, Any]]]:
    """Run the events through the engine; events after the session ended are listed, not run."""
    engine = SessionEngine(plan)
    refused: list[dict[str, Any]] = []
    for number, event in enumerate(events, start=1):
        try:
            engine.check(event)
        except SessionOver as error:
            refused.append(
                {"event": number, "at": event.at, "kind": event.kind.value, "reason": error.message}
            )
            continue
        except BackrubError as error:
            raise BackrubError(error.message, where=f"{source}: event {number}") from None
        engine.apply(event)
    if to_the_end and engine.status is SessionStatus.RUNNING:
        # Run on to the natural end (the clock stops there); a script that pauses and never
        # resumes ends at its last event rather than in a pause of made-up length.
        engine.advance(engine.state.clock + engine.budget * 3)
    return engine, refused


def simulate(
    plan_file: Annotated[Path, typer.Option("--plan", help="A plan from `backrub plan --json`.")],
    events_file: Annotated[
        Path,
        typer.Option(
            "--events",
            help='Scripted events, one JSON object a line: {"at": seconds, "kind": "..."}.',
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the timeline as JSON (docs/session-json.md).")
    ] = False,
) -> int:
    """Replay a plan against scripted feedback, headless: the same engine as the live guides."""
    plan = read_runnable_plan(plan_file)
    events = read_events(events_file)
    engine, refused = replay(plan, events, source=str(events_file), to_the_end=True)
    steps_done = timeline(engine)
    reacted = reactions(engine)
    result: dict[str, Any] = {
        "schema": SIMULATION_SCHEMA,
        "version": SIMULATION_VERSION,
        "routine": plan.routine_id,
        "budget_seconds": plan.budget_seconds,
        "status": engine.status.value,
        "worked_seconds": round(engine.state.worked, 1),
        "events": len(events),
        "refused_events": refused,
        "timeline": steps_done,
        "reactions": reacted,
        "cues": [
            {"at": c.at, "key": c.key, "text": c.text, "method_ids": list(c.method_ids)}
            for c in engine.state.cues
        ],
        "summary": summarize(engine),
    }
    if as_json:
        print_json(result)
        return EXIT_OK
    console = Console()
    table = Table(
        title=f"Simulated session: {engine.status.value}, "
        f"{engine.state.worked / 60:.1f} of {engine.budget / 60:g} minutes"
    )
    for column in ("start", "end", "step", "where", "side", "technique", "contact", "pressure"):
        table.add_column(column, overflow="fold")
    for row in steps_done:
        table.add_row(
            _clock(row["start"]),
            _clock(row["end"]),
            row["step"],
            ", ".join(row["regions"]),
            row["side"],
            row["technique"],
            row["contact"],
            str(row["pressure"]),
        )
    console.print(table)
    reaction_table = Table(title="Reactions")
    for column in ("at", "event", "what", "method"):
        reaction_table.add_column(column, overflow="fold")
    for row in reacted:
        reaction_table.add_row(
            _clock(row["at"]), row["event"], row["what"], " ".join(row["method_ids"])
        )
    console.print(reaction_table)
    for item in refused:
        console.print(
            f"[yellow]Event {item['event']} ({item['kind']} at {item['at']:g} s) "
            f"not run:[/] {item['reason']}"
        )
    return EXIT_OK


def _clock(seconds: float) -> str:
    return verdicts.clock(seconds)


def _summary_of(store: Store, record: SessionRecord, events: list[Event]) -> dict[str, Any]:
    """The stored summary, or, for a session still open, one replayed from its events."""
    if record.summary is not None:
        return record.summary
    engine, _ = replay(Plan.from_json(record.plan), events, source=record.id, to_the_end=False)
    return summarize(engine)


def _is_feedback(event: Event) -> bool:
    """What someone pressed or said; not the guide's own save points and end mark."""
    return event.kind not in (EventKind.TICK, EventKind.END)


def _record_json(
    store: Store, record: SessionRecord, *, full: bool, listed: bool = False
) -> dict[str, Any]:
    events = store.events(record.id)
    summary = _summary_of(store, record, events)
    data: dict[str, Any] = {
        "id": record.id,
        "created_at": record.created_at.isoformat(),
        "ended_at": record.ended_at.isoformat() if record.ended_at else None,
        "status": record.status,
        "routine": record.plan["routine"]["id"],
        "budget_seconds": record.plan["budget_seconds"],
        "worked_seconds": summary["worked_seconds"],
        "events": sum(1 for event in events if _is_feedback(event)),
        "save_points": sum(1 for event in events if event.kind is EventKind.TICK),
        "knots_found": len(summary["knots"]),
        "knots_released": sum(1 for k in summary["knots"] if k["outcome"] == "released"),
    }
    if full:
        data["summary"] = summary
    if listed:
        data["event_list"] = [
            event.model_dump(exclude_none=True) for event in events if _is_feedback(event)
        ]
    return data


def history(
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1000, help="How many sessions, newest first.")
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Past sessions, newest first, with a one-line summary each."""
    from backrub.store import Store

    with Store.open() as store:
        rows = [_record_json(store, record, full=False) for record in store.sessions(limit)]
    if as_json:
        print_json({"schema": HISTORY_SCHEMA, "version": SUMMARY_VERSION, "sessions": rows})
        return
    console = Console()
    if not rows:
        console.print("No sessions yet. Start one with `backrub guide`.")
        return
    table = Table(title="Sessions")
    for column in ("session", "started", "status", "minutes", "routine", "knots", "events"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["id"][:8],
            row["created_at"][:16].replace("T", " "),
            row["status"],
            f"{row['worked_seconds'] / 60:.1f} / {row['budget_seconds'] / 60:g}",
            row["routine"],
            f"{row['knots_released']}/{row['knots_found']} released",
            f"{row['events']} ({row['save_points']} save points)",
        )
    console.print(table)


def show(
    session: Annotated[str, typer.Argument(help="A session id, or its first characters.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    list_events: Annotated[
        bool, typer.Option("--events", help="List the feedback events too (not save points).")
    ] = False,
) -> None:
    """One session: time per region and side, knots found and released, what was left out."""
    from backrub.store import Store

    with Store.open() as store:
        data = _record_json(store, store.find_session(session), full=True, listed=list_events)
    if as_json:
        print_json({"schema": SESSION_SCHEMA, "version": SUMMARY_VERSION, **data})
        return
    summary = data["summary"]
    atlas = default_atlas()
    console = Console()
    console.print(
        f"[bold]Session {data['id']}[/] ({data['status']}), started "
        f"{data['created_at'][:16].replace('T', ' ')}: "
        f"{_clock(summary['worked_seconds'])} of {_clock(data['budget_seconds'])}; "
        f"{data['events']} events, {data['save_points']} save points"
    )
    # The statements come from the times as shown (whole seconds), like the summary page's.
    compared = summary.get("sides") or verdicts.sides(summary, atlas)
    verdict, uneven = verdicts.sides_in_words(compared, atlas)
    console.print(
        f"Left {_clock(compared['left'])}, right {_clock(compared['right'])}, "
        f"both/midline {_clock(summary['per_side_seconds']['midline'])}. {verdict}"
    )
    for line in uneven:
        console.print(f"  {line}")
    table = Table(title="Time per region")
    for column in ("region", "side", "time", "mean pressure"):
        table.add_column(column)
    for region, values in summary["regions"].items():
        table.add_row(
            region,
            values["side"],
            _clock(values["seconds"]),
            f"{values['mean_pressure']:.1f}",
        )
    console.print(table)
    for knot in summary["knots"]:
        console.print(f"Knot at {knot['region']}: {knot['outcome']} after {knot['seconds']:.0f} s")
    for item in summary["left_out"]:
        console.print(f"[yellow]Left out[/] {item['region']}: {item['reason']}")
    if data["status"] == "stopped":
        phases, steps = verdicts.not_reached_in_words(summary.get("not_reached", {}), atlas)
        where = ", ".join(phases) if phases else "the rest of the part it was in"
        console.print(
            f"[yellow]Stopped before it reached[/] {where}."
            if steps
            else "[yellow]Stopped early.[/]"
        )
        for line in steps:
            console.print(f"  not done: {line}")
    for note in summary["notes"]:
        console.print(f"[dim]{note}[/]")
    if list_events:
        events = Table(title="Events", caption="Save points are not listed.")
        for column in ("at", "kind", "detail"):
            events.add_column(column)
        for event in data["event_list"]:
            detail = event.get("region") or (str(event["value"]) if "value" in event else "")
            events.add_row(_clock(event["at"]), event["kind"], detail)
        console.print(events)
