"""The Jinja2 environment every page renders with."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from backrub.web.csrf_token import page_token

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
