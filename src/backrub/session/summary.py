"""A session in retrospect: where, how long and how firm; knots; what was left out and why."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from backrub.atlas import Side
from backrub.session import verdicts
from backrub.session.engine import SessionEngine

SUMMARY_VERSION = 1


def summarize(engine: SessionEngine) -> dict[str, Any]:
    """The documented summary shape (docs/session-json.md), stored with each finished session."""
    atlas = engine.atlas
    state = engine.state
    per_region: dict[str, dict[str, float]] = defaultdict(lambda: {"seconds": 0.0, "load": 0.0})
    per_side = {Side.LEFT.value: 0.0, Side.RIGHT.value: 0.0, Side.MIDLINE.value: 0.0}
    for segment in state.timeline:
        step = segment.step
        # A step over several regions spends its time among them.
        share = step.seconds / len(step.regions)
        for region_id in step.regions:
            per_region[region_id]["seconds"] += share
            per_region[region_id]["load"] += share * int(step.pressure)
        for side in {atlas.region(r).side.value for r in step.regions}:
            per_side[side] += step.seconds
    regions = {
        region_id: {
            "seconds": round(values["seconds"], 1),
            "mean_pressure": round(values["load"] / values["seconds"], 2)
            if values["seconds"]
            else 0.0,
            "side": atlas.region(region_id).side.value,
        }
        for region_id, values in sorted(per_region.items())
    }
    left_out = [
        {"region": r, "reason": why} for r, why in engine.plan.restrictions.excluded_regions.items()
    ]
    left_out += [{"region": r, "reason": why} for r, why in state.excluded.items()]
    if state.upper_trapezius_stopped:
        left_out += [
            {"region": r.id, "reason": "headache or nausea during upper-trapezius work"}
            for r in atlas.regions
            if r.base == "upper-trapezius"
        ]
    summary: dict[str, Any] = {
        "version": SUMMARY_VERSION,
        "status": state.status.value,
        "budget_seconds": engine.plan.budget_seconds,
        "worked_seconds": round(state.worked, 1),
        "wall_seconds": round(state.clock, 1),
        "per_side_seconds": {side: round(value, 1) for side, value in per_side.items()},
        "regions": regions,
        "knots": [
            {"region": k.region, "found_at": k.found_at, "outcome": k.outcome, "seconds": k.seconds}
            for k in state.knots
        ],
        "left_out": left_out,
        "removed_techniques": dict(state.removed_techniques),
        "notes": list(state.notes),
        "reactions": len(state.reactions),
        "not_reached": verdicts.not_reached(state, list(engine.plan.steps)),
    }
    # Said in words from the figures above, as they are shown (docs/session-json.md).
    summary["sides"] = verdicts.sides(summary, atlas)
    return summary


def timeline(engine: SessionEngine) -> list[dict[str, Any]]:
    """Every stretch of work actually done, in order, with its times on the work clock."""
    return [
        {
            "step": segment.step.id,
            "start": round(segment.start, 1),
            "end": round(segment.end, 1),
            "regions": list(segment.step.regions),
            "side": segment.step.side.value,
            "technique": segment.step.technique.value,
            "contact": segment.step.contact.value,
            "pressure": int(segment.step.pressure),
            "method_ids": list(segment.step.method_ids),
        }
        for segment in engine.state.timeline
    ]


def reactions(engine: SessionEngine) -> list[dict[str, Any]]:
    return [
        {"at": r.at, "event": r.event, "what": r.what, "method_ids": list(r.method_ids)}
        for r in engine.state.reactions
    ]
