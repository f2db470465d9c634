"""Routines as nested data (routine -> phase -> step), read from TOML and expanded into Steps."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backrub.atlas import Atlas, Point, Side, default_atlas
from backrub.datafile import read_toml, shipped, validate
from backrub.errors import DataFileError, UnknownNameError
from backrub.method.ids import METHOD_ELEMENTS
from backrub.method.step import MethodId, Step
from backrub.method.vocabulary import (
    Contact,
    Direction,
    PhaseKind,
    PressureLevel,
    StepSide,
    Technique,
)

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
Seconds = Annotated[int, Field(ge=5, le=900)]
Level = Annotated[int, Field(ge=1, le=5)]
FramePoint = tuple[
    Annotated[float, Field(ge=-1.3, le=1.3)], Annotated[float, Field(ge=-0.3, le=1.3)]
]
SideSpec = Literal["each", "both", "left", "right", "midline"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Cue(_Strict):
    """A line the guide says, with the method elements it carries out."""

    text: str
    how: str = ""
    ids: list[MethodId] = []


class StepSpec(_Strict):
    id: Name
    regions: Annotated[list[str], Field(min_length=1)]
    sides: SideSpec = "each"
    technique: Technique
    contact: Contact
    pressure: Level
    seconds: Seconds
    min_seconds: Seconds | None = None
    max_seconds: Annotated[int, Field(ge=5, le=1800)] | None = None
    direction: Direction = Direction.STILL
    passes: Annotated[int, Field(ge=1, le=10)] = 1
    cue: str
    how: str = ""
    ids: list[MethodId] = []
    check_in: bool = False
    knot: bool = False
    ladder_rung: Annotated[int, Field(ge=1, le=4)] | None = None
    consent: bool = False
    path: list[FramePoint] | None = None
    priority: Annotated[int, Field(ge=1, le=3)] = 2

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        low = self.min_seconds if self.min_seconds is not None else self.seconds
        high = self.max_seconds if self.max_seconds is not None else self.seconds
        if not low <= self.seconds <= high:
            raise ValueError("need min_seconds <= seconds <= max_seconds")
        if self.path is not None and len(self.path) < 2:
            raise ValueError("a path needs at least 2 points")
        return self


class PhaseSpec(_Strict):
    id: Name
    kind: PhaseKind
    title: str
    ids: list[MethodId] = []
    step: Annotated[list[StepSpec], Field(min_length=1)]


class LadderRung(_Strict):
    contact: Contact
    technique: Technique = Technique.CIRCLES
    pressure: Level
    seconds: Seconds
    cue: str
    how: str = ""
    ids: list[MethodId] = []
    needs_consent: bool = False


class KnotLadder(_Strict):
    """How a knot is worked: rungs of growing strength, bounded in time, then aftercare (U6-U9)."""

    limit_seconds: Annotated[int, Field(ge=30, le=300)]
    regions: list[str]
    ids: list[MethodId] = []
    rung: Annotated[list[LadderRung], Field(min_length=1, max_length=4)]
    aftercare: LadderRung


class RoutineFile(_Strict):
    version: Annotated[int, Field(ge=1, le=1)]
    id: Name
    title: str
    summary: str
    minutes: Annotated[int, Field(ge=5, le=90)]
    ids: list[MethodId] = []
    phase: Annotated[list[PhaseSpec], Field(min_length=1)]
    knot_ladder: KnotLadder | None = None
    cues: dict[str, Cue] = {}


class Routine:
    """A validated routine with its steps expanded for a given atlas."""

    def __init__(self, data: RoutineFile, *, source: str, atlas: Atlas) -> None:
        self.data = data
        self.source = source
        self.atlas = atlas
        self.steps: tuple[Step, ...] = tuple(_expand(data, source=source, atlas=atlas))
        if data.knot_ladder is not None:
            for number, name in enumerate(data.knot_ladder.regions):
                _resolve_base(name, atlas, where=f"{source}: knot_ladder.regions[{number}]")
        for key, cue in data.cues.items():
            _check_ids(cue.ids, where=f"{source}: cues.{key}.ids")

    @property
    def id(self) -> str:
        return self.data.id

    @property
    def title(self) -> str:
        return self.data.title

    def cue(self, key: str) -> Cue | None:
        return self.data.cues.get(key)

    def method_ids(self) -> set[str]:
        """Every method element this routine says it carries out, anywhere in the file."""
        found = set(self.data.ids)
        for phase in self.data.phase:
            found.update(phase.ids)
        for step in self.steps:
            found.update(step.method_ids)
        ladder = self.data.knot_ladder
        if ladder is not None:
            found.update(ladder.ids)
            found.update(ladder.aftercare.ids)
            for rung in ladder.rung:
                found.update(rung.ids)
        for cue in self.data.cues.values():
            found.update(cue.ids)
        return found

    @classmethod
    def from_file(cls, path: Path, *, atlas: Atlas | None = None) -> Routine:
        return parse_routine(read_toml(path), source=str(path), atlas=atlas)


def parse_routine(raw: object, *, source: str, atlas: Atlas | None = None) -> Routine:
    data = validate(RoutineFile, raw, source=source)
    return Routine(data, source=source, atlas=atlas or default_atlas())


def _check_ids(ids: list[str], *, where: str) -> None:
    for method_id in ids:
        if method_id not in METHOD_ELEMENTS:
            raise DataFileError(
                f"unknown method element {method_id!r}; expected one of "
                f"{', '.join(METHOD_ELEMENTS)}",
                where=where,
            )


def _resolve_base(name: str, atlas: Atlas, *, where: str) -> None:
    if name in atlas.bases() or atlas.has_region(name):
        return
    raise UnknownNameError(
        f"unknown region {name!r}; expected one of {', '.join(atlas.bases())}", where=where
    )


def _expand(data: RoutineFile, *, source: str, atlas: Atlas) -> list[Step]:
    steps: list[Step] = []
    _check_ids(data.ids, where=f"{source}: ids")
    for phase_number, phase in enumerate(data.phase):
        _check_ids(phase.ids, where=f"{source}: phase[{phase_number}].ids")
        for step_number, spec in enumerate(phase.step):
            where = f"{source}: phase[{phase_number}].step[{step_number}]"
            _check_ids(spec.ids, where=f"{where}.ids")
            steps.extend(expand_step(spec, phase=phase, atlas=atlas, where=where))
    ids = [step.id for step in steps]
    duplicates = sorted({step_id for step_id in ids if ids.count(step_id) > 1})
    if duplicates:
        raise DataFileError(f"step ids must be unique: {', '.join(duplicates)}", where=source)
    return steps


def expand_step(spec: StepSpec, *, phase: PhaseSpec, atlas: Atlas, where: str) -> list[Step]:
    """One spec becomes one step, or a left and a right step when it is done on each side."""
    each = spec.sides == "each"
    sides = [StepSide.LEFT, StepSide.RIGHT] if each else [StepSide(spec.sides)]
    pair = f"{phase.id}.{spec.id}" if spec.sides == "each" else None
    steps = []
    for side in sides:
        regions = _regions_for(spec, side, atlas=atlas, where=where)
        suffix = f".{side}" if spec.sides == "each" else ""
        steps.append(
            Step(
                id=f"{phase.id}.{spec.id}{suffix}",
                phase=phase.kind,
                regions=regions,
                side=side,
                technique=spec.technique,
                contact=spec.contact,
                pressure=PressureLevel(spec.pressure),
                seconds=spec.seconds,
                direction=spec.direction,
                passes=spec.passes,
                cue=spec.cue,
                how=spec.how,
                method_ids=tuple(spec.ids),
                check_in=spec.check_in,
                knot=spec.knot,
                ladder_rung=spec.ladder_rung,
                consent=spec.consent,
                path=_path_for(spec.path, side),
                min_seconds=spec.min_seconds if spec.min_seconds is not None else spec.seconds,
                max_seconds=spec.max_seconds if spec.max_seconds is not None else spec.seconds,
                pair=pair,
                priority=spec.priority,
            )
        )
    return steps


def _regions_for(spec: StepSpec, side: StepSide, *, atlas: Atlas, where: str) -> tuple[str, ...]:
    found: list[str] = []
    for number, name in enumerate(spec.regions):
        at = f"{where}.regions[{number}]"
        if atlas.has_region(name):
            region = atlas.region(name)
            if spec.sides == "each" and region.side is not Side.MIDLINE:
                raise DataFileError(
                    f"{name!r} names one side, but the step is done on each side; "
                    f"write its base name {region.base!r}",
                    where=at,
                )
            found.append(name)
            continue
        if name not in atlas.bases():
            raise UnknownNameError(
                f"unknown region {name!r}; expected one of {', '.join(atlas.bases())}", where=at
            )
        if side is StepSide.MIDLINE:
            raise DataFileError(
                f"{name!r} is on both sides, but the step is on the midline", where=at
            )
        region_sides = [Side.LEFT, Side.RIGHT] if side is StepSide.BOTH else [Side(side.value)]
        found.extend(atlas.resolve(name, region_side).id for region_side in region_sides)
    return tuple(dict.fromkeys(found))


def _path_for(path: list[tuple[float, float]] | None, side: StepSide) -> tuple[Point, ...] | None:
    # Paths are written for the right side, like the atlas; the left step gets the mirror image.
    if path is None:
        return None
    sign = -1.0 if side is StepSide.LEFT else 1.0
    return tuple((sign * x, y) for x, y in path)


BUILT_IN_ROUTINES = ("classic", "neck-and-shoulders")


def routine_path(name: str) -> Path:
    return Path(str(resources.files("backrub.method.routines").joinpath(f"{name}.toml")))


@cache
def built_in_routine(name: str) -> Routine:
    if name not in BUILT_IN_ROUTINES:
        raise UnknownNameError(
            f"unknown routine {name!r}; built-in routines: {', '.join(BUILT_IN_ROUTINES)}"
        )
    source = f"backrub/method/routines/{name}.toml"
    data = shipped(RoutineFile, "backrub.method.routines", f"{name}.toml", source=source)
    return Routine(data, source=source, atlas=default_atlas())


def load_routine(name_or_path: str) -> Routine:
    """A built-in routine by name, or a routine file by path."""
    if name_or_path in BUILT_IN_ROUTINES:
        return built_in_routine(name_or_path)
    return Routine.from_file(Path(name_or_path))
