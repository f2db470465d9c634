"""`backrub robot path` and `backrub robot simulate`: a plan as a checked robot tool path.

numpy and the robot package are imported inside the commands, so the rest of the CLI starts
without them; the MCAP export and the simulation need the optional extra (backrub[robot]).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from backrub.cli.errors import EXIT_REFUSED, fail
from backrub.cli.output import (
    atomic_binary_file,
    atomic_text_file,
    print_json,
    write_text_atomically,
)
from backrub.cli.plan_file import read_plan

if TYPE_CHECKING:
    from backrub.planner import Plan
    from backrub.robot import Breach, ToolPath

PATH_SCHEMA = "backrub.robot.path"
PATH_VERSION = 1

robot_app = typer.Typer(
    name="robot",
    help="Turn a plan into a force-checked robot tool path (CSV, MCAP, SVG) or simulate it.",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help, like every other command (see cli/main.py)
)

PlanArgument = Annotated[
    Path, typer.Argument(metavar="PLAN.json", help="A plan written by `backrub plan --json`.")
]
RateOption = Annotated[
    float, typer.Option("--rate", min=50, max=2000, help="Samples per second (Hz).")
]


def _need(module: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        fail(f"this needs the optional package {module!r}: pip install 'backrub[robot]'")


def _breach_json(breach: Breach) -> dict[str, Any]:
    return {
        "rule": breach.rule,
        "cap": breach.cap,
        "region": breach.region,
        "time_s": round(breach.time, 4),
        "step": breach.step,
        "message": breach.message,
    }


def _refuse(breach: Breach, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "schema": PATH_SCHEMA,
                "version": PATH_VERSION,
                "status": "refused",
                "breach": _breach_json(breach),
            }
        )
    else:
        print(f"backrub: refused: {breach.one_line()}")
    raise SystemExit(EXIT_REFUSED)


def path_summary(path: ToolPath) -> dict[str, Any]:
    import numpy as np

    from backrub.robot import CAPS

    grid = path.context.grid
    touching = path.touching
    regions: dict[str, dict[str, float]] = {}
    names = np.array([*grid.ids, "none"], dtype=object)
    for index in np.unique(path.region[touching]).tolist():
        on = touching & (path.region == index)
        regions[str(names[index])] = {
            "seconds": round(float(on.sum()) / path.rate_hz, 2),
            "max_force_n": round(float(path.force[on].max()), 2),
            "max_pressure_kpa": round(float(path.pressure_kpa[on].max()), 1),
        }
    return {
        "samples": len(path),
        "rate_hz": path.rate_hz,
        "duration_s": round(path.duration, 3),
        "max_force_n": round(float(path.force.max()), 2),
        "max_pressure_kpa": round(float(path.pressure_kpa.max()), 1),
        "max_speed_m_s": round(float(path.speed.max()), 4),
        "caps_checked": [cap.name for cap in CAPS],
        "samples_over_a_cap": 0,
        "regions": regions,
    }


def _metadata(plan: Plan, path: ToolPath) -> dict[str, str]:
    fit = path.context.fit
    return {
        "routine": plan.routine_id,
        "frame": "back frame in metres: x right, y down the spine, z into the body",
        "shoulder_width_cm": f"{fit.shoulder_width_cm:g}",
        "skull_to_s2_cm": f"{fit.skull_to_s2_cm:g}",
        "rate_hz": f"{path.rate_hz:g}",
    }


@robot_app.command("path")
def path_command(
    plan_file: PlanArgument,
    rate: RateOption = 500.0,
    csv: Annotated[Path | None, typer.Option("--csv", help="Write every sample as CSV.")] = None,
    mcap: Annotated[
        Path | None, typer.Option("--mcap", help="Write ROS 2 messages as MCAP (Foxglove).")
    ] = None,
    mcap_rate: Annotated[
        float,
        typer.Option(
            "--mcap-rate", min=1, max=2000, help="Poses and wrenches per second in the MCAP."
        ),
    ] = 100.0,
    svg: Annotated[
        Path | None, typer.Option("--svg", help="Draw the path on the back map, and the force.")
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option(
            "--events", help="Live changes to apply: JSON lines as for `backrub simulate`."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Sample PLAN.json into a tool path, check every sample against every cap, and export it."""
    plan = read_plan(plan_file)
    if mcap is not None:
        _need("mcap")
    from backrub.atlas import default_atlas
    from backrub.robot import UnsafePlanError, plan_path

    try:
        path = plan_path(plan, rate_hz=rate)
        if events is not None:
            from backrub.robot.live import apply_events
            from backrub.session.script import read_events

            path = apply_events(path, read_events(events))
    except UnsafePlanError as refused:
        _refuse(refused.breach, as_json)
        return
    except ValueError as error:  # a plan with no steps: nothing to sample
        fail(f"{plan_file}: {error}")
    written: dict[str, str] = {}
    if csv is not None:
        from backrub.robot.csv_export import write_csv

        with atomic_text_file(csv) as stream:
            write_csv(path, stream, plan_name=plan.routine_title)
        written["csv"] = str(csv)
    if mcap is not None:
        from backrub.robot.mcap_export import write_mcap

        with atomic_binary_file(mcap) as stream:
            write_mcap(path, stream, rate_hz=mcap_rate, metadata=_metadata(plan, path))
        written["mcap"] = str(mcap)
    if svg is not None:
        from backrub.robot.drawing import draw_path

        write_text_atomically(
            svg, draw_path(path, default_atlas(), title=f"Robot path: {plan.routine_title}")
        )
        written["svg"] = str(svg)
    summary = path_summary(path)
    if as_json:
        print_json(
            {
                "schema": PATH_SCHEMA,
                "version": PATH_VERSION,
                "status": "ok",
                **summary,
                "events": list(path.events),
                "files": written,
            }
        )
        return
    print(
        f"Robot path for {plan.routine_title}: {summary['samples']:,} samples at {rate:g} Hz "
        f"over {summary['duration_s']:.1f} s."
    )
    print(
        f"Highest force {summary['max_force_n']} N, highest pressure "
        f"{summary['max_pressure_kpa']} kPa, top speed {summary['max_speed_m_s']} m/s."
    )
    print(f"Every sample is within every cap ({len(summary['caps_checked'])} caps checked).")
    for kind, name in written.items():
        print(f"Wrote {name} ({kind.upper()}).")


@robot_app.command("simulate")
def simulate_command(
    plan_file: PlanArgument,
    events: Annotated[
        Path | None,
        typer.Option("--events", help="Scripted feedback: JSON lines as for `backrub simulate`."),
    ] = None,
    seconds: Annotated[
        float | None,
        typer.Option("--seconds", min=1, help="Simulate only the first this many seconds."),
    ] = None,
    svg: Annotated[
        Path | None,
        typer.Option("--svg", help="Draw where the simulated tool went and the measured force."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Run PLAN.json in MuJoCo (a compliant back, a force-controlled tool at 1 kHz) and report."""
    plan = read_plan(plan_file)
    _need("mujoco")
    from backrub.robot import UnsafePlanError, plan_path
    from backrub.robot.live import apply_events
    from backrub.robot.sim_report import report
    from backrub.robot.simulation import SIM_RATE_HZ, simulate
    from backrub.session.script import read_events

    script = read_events(events) if events is not None else []
    try:
        path = plan_path(plan, rate_hz=SIM_RATE_HZ)
        if seconds is not None:
            path = path.window(0, path.index_at(seconds))
        path = apply_events(path, script)
    except UnsafePlanError as refused:
        _refuse(refused.breach, as_json)
        return
    except ValueError as error:  # a plan with no steps: nothing to sample
        fail(f"{plan_file}: {error}")
    run = simulate(path)
    result = report(run)
    if svg is not None:
        from dataclasses import replace

        from backrub.atlas import default_atlas
        from backrub.robot.drawing import draw_path

        measured = replace(path, force=run.force, frame_xy=run.tool_xy)
        title = f"Simulated: {plan.routine_title}"
        write_text_atomically(svg, draw_path(measured, default_atlas(), title=title))
    if as_json:
        print_json(result)
        return
    tracking = result["tracking"]
    print(
        f"Simulated {result['duration_s']:.1f} s of {plan.routine_title} at 1 kHz in "
        f"{result['wall_seconds']:.1f} s ({result['realtime_factor']:.1f}x real time)."
    )
    print(
        f"Force tracking: RMS {tracking['rms_n']} N (steady {tracking['steady_rms_n']} N, "
        f"while the force changes {tracking['changing_rms_n']} N), worst {tracking['worst_n']} N."
    )
    hazards = result["over_cap_on_bone_or_kidneys"]
    print(
        "No contact on bone or kidneys above its cap."
        if not hazards
        else f"{len(hazards)} samples on bone or kidneys above a cap, first {hazards[0]}"
    )
    for name, region in result["regions"].items():
        print(
            f"  {name}: {region['seconds']} s of {region['planned_seconds']} s planned, "
            f"up to {region['max_force_n']} N, {region['max_pressure_kpa']} kPa"
        )
    for reaction in result["reactions"]:
        took = "never" if reaction["seconds"] is None else f"{reaction['seconds'] * 1000:.0f} ms"
        print(f"  {reaction['kind']} at {reaction['at_s']} s: {reaction['goal']} after {took}")
