"""The Jinja2 environment every page renders with."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi.templating import Jinja2Templates
from markupsafe import Markup

TEMPLATES = Path(str(resources.files("backrub.web").joinpath("templates")))
templates = Jinja2Templates(directory=TEMPLATES)


def clock(seconds: float | int | None) -> str:
    """93.4 -> '1:33'."""
    if seconds is None:
        return "-"
    total = max(0, round(float(seconds)))
    return f"{total // 60}:{total % 60:02d}"


def svg(text: str) -> Markup:
    """An SVG drawn by backrub.render: our own markup, every text in it escaped there."""
    return Markup(text)  # trusted: produced by our renderer, not by a user


templates.env.filters["clock"] = clock
templates.env.filters["svg"] = svg
