"""The Plan: ordered, timed steps for one session, and its documented, versioned JSON shape."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from backrub.atlas import Area, Atlas, default_atlas
from backrub.method.step import Step
from backrub.method.words import vocabulary
from backrub.planner.request import PlanRequest
from backrub.safety.restrictions import Restrictions
from backrub.safety.screening import ScreeningResult

PLAN_SCHEMA = "backrub.plan"
PLAN_VERSION = 1


class PlanStatus(StrEnum):
    READY = "ready"
    REFUSED = "refused"


class LeftOut(BaseModel):
    """Something the plan does not do, and why: a region, a technique, a contact or a step."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    kind: str
    name: str
    reason: str


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    status: PlanStatus
    routine_id: str
    routine_title: str
    request: PlanRequest
    screening: ScreeningResult
    restrictions: Restrictions = Restrictions()
    focus_areas: tuple[Area, ...] = ()
    steps: tuple[Step, ...] = ()
    left_out: tuple[LeftOut, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def budget_seconds(self) -> int:
        return self.request.budget_seconds

    @property
    def total_seconds(self) -> float:
        return sum(step.seconds for step in self.steps)

    def starts(self) -> list[float]:
        """When each step begins, in seconds from the start of the session."""
        starts, clock = [], 0.0
        for step in self.steps:
            starts.append(clock)
            clock += step.seconds
        return starts

    @classmethod
    def from_json(cls, data: Any) -> Plan:
        """Read back what `to_json` wrote (the output of `backrub plan --json`).

        Raises ValueError (pydantic's ValidationError) or KeyError on a document of another shape.
        """
        if not isinstance(data, dict) or data.get("schema") != PLAN_SCHEMA:
            raise ValueError(f'not a backrub plan (expected "schema": "{PLAN_SCHEMA}")')
        if data.get("version") != PLAN_VERSION:
            raise ValueError(
                f"plan version {data.get('version')!r} is not supported; expected {PLAN_VERSION}"
            )
        screening = data["screening"]
        restrictions = Restrictions.model_validate(data.get("restrictions", {}))
        step_fields = set(Step.model_fields)
        return cls(
            status=PlanStatus(data["status"]),
            routine_id=data["routine"]["id"],
            routine_title=data["routine"]["title"],
            request=PlanRequest.model_validate(data["request"]),
            screening=ScreeningResult(
                outcome=screening["outcome"],
                findings=tuple(screening["findings"]),
                restrictions=restrictions,
                emergency=screening["emergency"],
            ),
            restrictions=restrictions,
            focus_areas=tuple(Area(area) for area in data["focus_areas"]),
            steps=tuple(
                Step.model_validate(
                    {key: value for key, value in step.items() if key in step_fields}
                )
                for step in data["steps"]
            ),
            left_out=tuple(LeftOut.model_validate(item) for item in data["left_out"]),
            notes=tuple(data["notes"]),
        )

    def to_json(self, atlas: Atlas | None = None) -> dict[str, Any]:
        """The documented shape (docs/plan-json.md); change PLAN_VERSION when it changes."""
        atlas = atlas or default_atlas()
        fit = self.request.fit
        words = vocabulary()
        steps = []
        for number, (step, start) in enumerate(zip(self.steps, self.starts(), strict=True), 1):
            x_cm, y_cm = fit.to_cm(atlas.answers.centroid(step.regions[0]))
            steps.append(
                {
                    "number": number,
                    "id": step.id,
                    "phase": step.phase.value,
                    "start_seconds": start,
                    "seconds": step.seconds,
                    "regions": list(step.regions),
                    "side": step.side.value,
                    "technique": step.technique.value,
                    "contact": step.contact.value,
                    "pressure": int(step.pressure),
                    "pressure_word": words.pressure_word(step.pressure),
                    "direction": step.direction.value,
                    "passes": step.passes,
                    "cue": step.cue,
                    "how": step.how,
                    "method_ids": list(step.method_ids),
                    "check_in": step.check_in,
                    "knot": step.knot,
                    "ladder_rung": step.ladder_rung,
                    "consent": step.consent,
                    "where_cm": {"x": round(x_cm, 1), "y": round(y_cm, 1)},
                    "path": None if step.path is None else [list(p) for p in step.path],
                    "min_seconds": step.min_seconds,
                    "max_seconds": step.max_seconds,
                    "pair": step.pair,
                    "priority": step.priority,
                }
            )
        phases: list[dict[str, Any]] = []
        for entry in steps:
            if not phases or phases[-1]["phase"] != entry["phase"]:
                phases.append(
                    {
                        "phase": entry["phase"],
                        "start_seconds": entry["start_seconds"],
                        "seconds": 0.0,
                    }
                )
            phases[-1]["seconds"] += entry["seconds"]
        screening = self.screening
        return {
            "schema": PLAN_SCHEMA,
            "version": PLAN_VERSION,
            "status": self.status.value,
            "routine": {"id": self.routine_id, "title": self.routine_title},
            "request": self.request.model_dump(mode="json"),
            "budget_seconds": self.budget_seconds,
            "total_seconds": self.total_seconds,
            "focus_areas": [area.value for area in self.focus_areas],
            "screening": {
                "outcome": screening.outcome.value,
                "emergency": screening.emergency,
                "summary": screening.summary(),
                "findings": [finding.model_dump(mode="json") for finding in screening.findings],
            },
            "restrictions": self.restrictions.model_dump(mode="json"),
            "left_out": [item.model_dump(mode="json") for item in self.left_out],
            "notes": list(self.notes),
            "phases": phases,
            "steps": steps,
        }
