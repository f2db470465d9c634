"""The live session's state: plain data the engine folds events into, and front ends read."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from backrub.method.step import Step


class SessionStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    STOPPED = "stopped"

    @property
    def is_over(self) -> bool:
        return self in (SessionStatus.FINISHED, SessionStatus.STOPPED)


@dataclass(frozen=True)
class Segment:
    """A stretch of work actually done at one pressure: the step as done, and when (work clock)."""

    step: Step
    start: float

    @property
    def end(self) -> float:
        return self.start + self.step.seconds


@dataclass(frozen=True)
class Cue:
    """A line for the giver: shown, and spoken where the front end can speak."""

    key: str
    text: str
    method_ids: tuple[str, ...] = ()
    at: float = 0.0


@dataclass(frozen=True)
class Reaction:
    """What the engine did about an event (or about time passing), and which element it follows."""

    at: float
    event: str
    what: str
    method_ids: tuple[str, ...]


@dataclass(frozen=True)
class KnotRecord:
    region: str
    found_at: float
    # released, bounded, interrupted, gentle, noted (no time left), not reached (the session
    # ended before a knot noted during the warm-up came up)
    outcome: str
    seconds: float


@dataclass
class KnotWork:
    """A knot being worked now: which rung, how long so far, what the receiver said of the elbow."""

    region: str
    number: int
    found_at: float
    limit: float
    rung: int = 0
    seconds: float = 0.0
    asked_elbow: bool = False
    elbow_accepted: bool = False
    elbow_declined: bool = False
    gentle: bool = False
    recorded: bool = False
    resume: Step | None = None
    # Aftercare is given once per knot (U9): nothing pressed may start it over.
    aftercare_given: bool = False


@dataclass
class SessionState:
    """Everything the engine knows; the same events on the same plan rebuild it exactly."""

    status: SessionStatus = SessionStatus.RUNNING
    clock: float = 0.0
    worked: float = 0.0
    current: Step | None = None
    elapsed: float = 0.0
    segment_from: float = 0.0
    queue: list[Step] = field(default_factory=list)
    timeline: list[Segment] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    cues: list[Cue] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)
    removed_techniques: dict[str, str] = field(default_factory=dict)
    upper_trapezius_stopped: bool = False
    # Work-clock times at which areas were taken out, so a check can tell before from after.
    trapezius_stopped_at: float | None = None
    excluded_at: dict[str, float] = field(default_factory=dict)
    pressure_offset: int = 0
    tickles: dict[str, int] = field(default_factory=dict)
    pains: dict[str, int] = field(default_factory=dict)
    returned: set[str] = field(default_factory=set)
    knot: KnotWork | None = None
    knots: list[KnotRecord] = field(default_factory=list)
    knot_count: int = 0
    balanced: bool = False
    even_outs: int = 0
    care_said: set[str] = field(default_factory=set)
    last_check_in: float = -1e9
    notes: list[str] = field(default_factory=list)
    # Knots found during the warm-up, worked once it is over (O1, O4), and when each was found.
    deferred_knots: list[str] = field(default_factory=list)
    deferred_at: dict[str, float] = field(default_factory=dict)
    # Pain lowers the rest of the session by one level at most, however often it is reported.
    pain_eased: bool = False
