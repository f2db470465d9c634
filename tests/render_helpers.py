"""What the map-drawing tests (test_render.py, test_render_text_scale.py) share: the SVG
namespace and the step they draw, a light sweep with the palms on the upper back."""

from __future__ import annotations

from backrub.atlas.model import Point
from backrub.method.step import Step
from backrub.method.vocabulary import (
    Contact,
    Direction,
    PhaseKind,
    PressureLevel,
    StepSide,
    Technique,
)

SVG = "{http://www.w3.org/2000/svg}"


def sweep_step(
    step_id: str,
    regions: tuple[str, ...],
    direction: Direction = Direction.DOWN,
    *,
    side: StepSide = StepSide.LEFT,
    path: tuple[Point, ...] | None = None,
) -> Step:
    return Step(
        id=step_id,
        phase=PhaseKind.UPPER_BACK,
        regions=regions,
        side=side,
        technique=Technique.SWEEP,
        contact=Contact.PALMS,
        pressure=PressureLevel.LIGHT,
        seconds=30,
        direction=direction,
        path=path,
    )
