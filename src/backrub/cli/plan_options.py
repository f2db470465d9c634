"""The plan options `backrub plan` and `backrub guide` share, declared once, and their reading."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from backrub.cli.profile import parse_pressure
from backrub.safety.screening import parse_local_problem

Minutes = Annotated[
    float | None,
    typer.Option("--minutes", "-m", help="Time budget, 5 to 90 minutes (default 20)."),
]
Activities = Annotated[
    list[str] | None,
    typer.Option(
        "--activity", "-a", help="An activity of the receiver, e.g. computer-work (repeatable)."
    ),
]
TroubleSpots = Annotated[
    list[str] | None,
    typer.Option(
        "--trouble",
        "-t",
        help="A trouble spot, by region id, e.g. upper-trapezius-left (repeatable).",
    ),
]
Pressure = Annotated[
    str | None,
    typer.Option(
        "--pressure", "-p", help="Preferred pressure: 1-5 or feather, light, moderate, firm, deep."
    ),
]
Order = Annotated[
    str | None,
    typer.Option("--order", "-o", help="top-down (default), upper-lower-neck or problem-first."),
]
Yes = Annotated[
    list[str] | None,
    typer.Option(
        "--yes",
        "-y",
        help="A screening question answered yes, by id; see `backrub questions` (repeatable).",
    ),
]
Local = Annotated[
    list[str] | None,
    typer.Option(
        "--local",
        help="A local problem as REGION:KIND, e.g. shoulder-blade-left:bruise (repeatable).",
    ),
]
RoutineName = Annotated[
    str | None,
    typer.Option(
        "--routine",
        "-r",
        help="Built-in routine name (classic, neck-and-shoulders) or a routine file.",
    ),
]
ShoulderWidth = Annotated[
    float | None,
    typer.Option("--shoulder-width", help="Receiver's shoulder width, tip to tip, in cm."),
]
BackLength = Annotated[
    float | None,
    typer.Option("--back-length", help="Receiver's back length, base of skull to S2, in cm."),
]
Profile = Annotated[
    Path | None,
    typer.Option("--profile", help="A receiver profile file (TOML or JSON); options override it."),
]

Receiver = Annotated[
    str | None,
    typer.Option(
        "--receiver",
        help="A saved receiver, by name: start from their choices and learn from their past "
        "sessions (instead of --profile).",
    ),
]


def plan_overrides(
    *,
    minutes: float | None,
    activity: list[str] | None,
    trouble: list[str] | None,
    pressure: str | None,
    order: str | None,
    yes: list[str] | None,
    local: list[str] | None,
    routine: str | None,
    shoulder_width: float | None,
    back_length: float | None,
) -> dict[str, Any]:
    """The options as the profile reader's overrides (None or empty: not given)."""
    return {
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
    }
