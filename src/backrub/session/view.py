"""What a front end shows at one instant: the step, the clocks, what comes next, the last cues."""

from __future__ import annotations

from dataclasses import dataclass

from backrub.atlas import Atlas
from backrub.method.step import Step
from backrub.method.words import vocabulary
from backrub.session.engine import SessionEngine, target_band
from backrub.session.state import Cue, SessionStatus


@dataclass(frozen=True)
class StepView:
    id: str
    phase: str
    regions: tuple[str, ...]
    where: str
    side: str
    technique: str
    contact: str
    pressure: int
    pressure_word: str
    direction: str
    cue: str
    how: str
    seconds: float
    knot_rung: int | None
    check_in: bool
    target_band: tuple[int, int]

    @classmethod
    def of(cls, step: Step, atlas: Atlas) -> StepView:
        names = dict.fromkeys(atlas.region(r).name.split(" (")[0] for r in step.regions)
        return cls(
            id=step.id,
            phase=step.phase.value,
            regions=step.regions,
            where=", ".join(names),
            side=step.side.value,
            technique=step.technique.value,
            contact=step.contact.value,
            pressure=int(step.pressure),
            pressure_word=vocabulary().pressure_word(step.pressure),
            direction=step.direction.value,
            cue=step.cue,
            how=step.how,
            seconds=step.seconds,
            knot_rung=step.ladder_rung,
            check_in=step.check_in,
            target_band=target_band(step),
        )


@dataclass(frozen=True)
class SessionView:
    status: SessionStatus
    clock: float
    worked: float
    budget: float
    step: StepView | None
    step_elapsed: float
    next_step: StepView | None
    knot_region: str | None
    asking_elbow: bool
    recent_cues: tuple[Cue, ...]
    # Knots noted during the warm-up, waiting to be worked once it is over (O1, O4).
    waiting_knots: tuple[str, ...] = ()

    @property
    def step_left(self) -> float:
        return max(0.0, self.step.seconds - self.step_elapsed) if self.step else 0.0

    @property
    def session_left(self) -> float:
        return max(0.0, self.budget - self.worked)

    @property
    def progress(self) -> float:
        return min(1.0, self.worked / self.budget) if self.budget else 1.0


def view_of(engine: SessionEngine, *, recent: int = 3) -> SessionView:
    state = engine.state
    atlas = engine.atlas
    knot = state.knot
    upcoming = state.queue[0] if state.queue else None
    return SessionView(
        status=state.status,
        clock=state.clock,
        worked=state.worked,
        budget=engine.budget,
        step=StepView.of(state.current, atlas) if state.current else None,
        step_elapsed=state.elapsed,
        next_step=StepView.of(upcoming, atlas) if upcoming else None,
        knot_region=knot.region if knot else None,
        asking_elbow=engine.asking_elbow,
        recent_cues=tuple(state.cues[-recent:]),
        waiting_knots=tuple(state.deferred_knots),
    )
