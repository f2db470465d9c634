"""The back maps the pages show, all drawn by the same code as the CLI's SVG (backrub.render)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from backrub.atlas import default_atlas
from backrub.planner import Plan
from backrub.render import render_back_map
from backrub.render.live_map import MAP_WIDTH as MAP_WIDTH
from backrub.render.live_map import TEXT_SCALE as TEXT_SCALE
from backrub.render.live_map import live_map, step_overlay
from backrub.session import SessionEngine


@cache
def tap_map() -> str:
    """The bare map for picking regions by tapping them (start page, check-in)."""
    return render_back_map(
        default_atlas(), labels=False, width_px=MAP_WIDTH, title=None, text_scale=TEXT_SCALE
    )


def session_map(engine: SessionEngine) -> str:
    """The current step: its regions lit, its stroke drawn and the hand on it, for the live page
    to animate. Knots noted during the warm-up and still waiting are marked where they are."""
    return live_map(engine.atlas, engine.state.current, engine.state.deferred_knots)


def step_map(engine: SessionEngine) -> str:
    """Only the current step's part of the live map, for a page that has the whole map."""
    return step_overlay(engine.atlas, engine.state.current, engine.state.deferred_knots)


def heat_map(heat: Mapping[str, float], *, title: str) -> str:
    """Regions coloured 0..1 (coverage on the summary, knots over time on the profile)."""
    atlas = default_atlas()
    return render_back_map(
        atlas, heat=heat, labels=False, width_px=MAP_WIDTH, title=title, text_scale=TEXT_SCALE
    )


def coverage(summary: Mapping[str, object]) -> dict[str, float]:
    """Seconds x mean pressure per region, scaled so the most worked region is 1."""
    regions = summary.get("regions", {})
    assert isinstance(regions, dict)
    load = {
        region_id: float(values["seconds"]) * max(1.0, float(values["mean_pressure"]))
        for region_id, values in regions.items()
    }
    top = max(load.values(), default=0.0)
    return {region_id: value / top for region_id, value in load.items()} if top else {}


def plan_map(plan: Plan) -> str:
    """A whole plan: numbered steps and stroke arrows (the printable plan and its preview).

    No name labels beside the body: at phone width they could not be read, and the steps table
    under the map names every place; the numbers tie the two together."""
    return render_back_map(
        default_atlas(),
        steps=plan.steps,
        labels=False,
        width_px=MAP_WIDTH,
        text_scale=TEXT_SCALE,
    )
