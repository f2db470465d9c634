"""Activities a receiver does, and the area of the back each one loads (N1, U1, L2)."""

from __future__ import annotations

from functools import cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from backrub.atlas import Area
from backrub.datafile import shipped
from backrub.errors import UnknownNameError
from backrub.method.step import MethodId


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Activity(_Strict):
    label: str
    area: Area
    ids: list[MethodId]


class ActivitiesFile(_Strict):
    version: Annotated[int, Field(ge=1, le=1)]
    activity: dict[str, Activity]


@cache
def activities() -> dict[str, Activity]:
    source = "backrub/planner/activities.toml"
    return shipped(ActivitiesFile, "backrub.planner", "activities.toml", source=source).activity


def activity(name: str) -> Activity:
    known = activities()
    if name not in known:
        raise UnknownNameError(f"unknown activity {name!r}; known activities: {', '.join(known)}")
    return known[name]


def focus_areas(names: tuple[str, ...]) -> tuple[Area, ...]:
    """The areas the activities load, in the method's top-down order, without repeats."""
    wanted = {activity(name).area for name in names}
    return tuple(area for area in Area if area in wanted)
