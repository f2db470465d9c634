"""The Jinja2 environment every page renders with."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from backrub.plain_words import order_name, plain_left_out, plain_notes
from backrub.web.csrf_token import page_token
from backrub.web.static_files import static_url

TEMPLATES = Path(str(resources.files("backrub.web").joinpath("templates")))


def who(request: Request) -> dict[str, Any]:
    """What every page knows about the mode and the log-in: `hosted`, `viewer` (the logged-in
    account's e-mail and CSRF token, set by the log-in gate; None otherwise), and `csrf_token`,
    which every form and the live page send back with each change (None: nothing to change)."""
    app = request.scope.get("app")
    state = getattr(app, "state", None)
    hosted = getattr(state, "accounts", None) is not None
    viewer = request.scope.get("state", {}).get("viewer")
    return {"hosted": hosted, "viewer": viewer, "csrf_token": page_token(request)}


templates = Jinja2Templates(directory=TEMPLATES, context_processors=[who])


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


def minutes(value: object) -> str:
    """20.0 -> '20', 7.5 -> '7.5'; what a person typed (not a number) is shown as typed."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{float(value):g}"
    return "" if value is None else str(value)


templates.env.filters["minutes"] = minutes
templates.env.filters["order_name"] = order_name
# The plan's notes and left-out list in words, for plan_body.html (the preview and the print).
templates.env.globals["plain_notes"] = plain_notes
templates.env.globals["plain_left_out"] = plain_left_out
# Every link to a static file carries its version (static_files.py): cached for a year.
templates.env.globals["static_url"] = static_url
