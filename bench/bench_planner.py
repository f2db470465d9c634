"""Planner, judge and geometry figures: how long a plan takes, what judging a step costs.

Run with `make bench`. Prints figures and their ratio to the goals of issue 12; asserts nothing
(speed goals are read, not tested). Each figure is the median of repeated runs, as wall time and
as this process's CPU time: on a busy machine the CPU time is the steadier of the two, and the
ratios to the goals are taken on it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np

from backrub.atlas import default_atlas
from backrub.method.step import Step
from backrub.method.vocabulary import PhaseKind
from backrub.planner import PlanRequest, make_plan
from backrub.safety import SafetyContext, SequenceJudge, judge_plan, judge_step

PLAN_60_GOAL_MS = 5.0
PLAN_90_GOAL_MS = 8.0
# Judging a step change at minute 90 should cost what it costs at minute 10.
JUDGE_GROWTH_GOAL = 1.2


def timed(action: Callable[[], object], repeats: int, inner: int = 1) -> tuple[float, float]:
    """Median wall and CPU time of one action, in milliseconds (`inner` actions per sample)."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(inner):
            action()
        cpus.append((time.process_time() - cpu) * 1000 / inner)
        walls.append((time.perf_counter() - wall) * 1000 / inner)
    return statistics.median(walls), statistics.median(cpus)


def goal_line(label: str, cpu: float, wall: float, goal: float, unit: str = "ms") -> str:
    return (
        f"  {label}: {cpu:.2f} {unit} cpu ({wall:.2f} {unit} wall); goal <= {goal:g} {unit}, "
        f"ratio {cpu / goal:.2f}"
    )


def plans() -> None:
    print("plans (median of 30)")
    for minutes, spots in (
        (5, ()),
        (20, ()),
        (20, ("upper-trapezius-left", "teres-right")),
        (60, ()),
        (90, ("latissimus-left",)),
    ):
        request = PlanRequest(minutes=minutes, trouble_spots=spots, activities=("running",))
        plan = make_plan(request)
        wall, cpu = timed(lambda request=request: make_plan(request), 30)
        print(
            f"  plan {minutes:>2} min, {len(spots)} trouble spot(s): {len(plan.steps):>3} steps, "
            f"{cpu:5.2f} ms cpu ({wall:5.2f} ms wall)"
        )
    plan_60 = PlanRequest(minutes=60, activities=("running",))
    plan_90 = PlanRequest(minutes=90, trouble_spots=("upper-trapezius-left", "teres-right"))
    make_plan(plan_90)
    wall, cpu = timed(lambda: make_plan(plan_60), 40)
    print(goal_line("GOAL 60-minute plan", cpu, wall, PLAN_60_GOAL_MS))
    wall, cpu = timed(lambda: make_plan(plan_90), 40)
    print(goal_line("GOAL 90-minute plan with 2 trouble spots", cpu, wall, PLAN_90_GOAL_MS))
    plan = make_plan(PlanRequest(minutes=60))
    wall, cpu = timed(lambda: judge_plan(plan), 30)
    print(f"  judge a {len(plan.steps)}-step plan against every rule: {cpu:.2f} ms cpu")


def done_by(steps: Sequence[Step], seconds: float) -> list[Step]:
    done, worked = [], 0.0
    for step in steps:
        if worked + step.seconds > seconds:
            break
        done.append(step)
        worked += step.seconds
    return done


def judging() -> None:
    """A step change (the next middle step one level lighter) judged after 10 and 90 minutes."""
    plan = make_plan(PlanRequest(minutes=90, trouble_spots=("latissimus-left",)))
    context = SafetyContext(restrictions=plan.restrictions)
    middle = [step for step in plan.steps if step.phase is not PhaseKind.CLOSING]
    early, late = done_by(middle, 10 * 60), middle[:-1]
    following = next(s for s in middle[len(early) :] if s.phase is not PhaseKind.OPENING)
    change = following.model_copy(update={"pressure": max(1, int(following.pressure) - 1)})
    print(f"judging one step change ({len(early)} steps done at 10 min, {len(late)} at 90 min)")
    judges = {"10": SequenceJudge.of(early), "90": SequenceJudge.of(late)}
    histories = {"10": early, "90": late}
    figures: dict[str, list[float]] = {"10": [], "90": []}
    whole: dict[str, list[float]] = {"10": [], "90": []}
    # Taken in turns, so that the machine's other load weighs on both alike.
    for _ in range(15):
        for label, judge in judges.items():
            figures[label].append(timed(lambda j=judge: j.judge(change, context), 1, 200)[1])
            history = histories[label]
            whole[label].append(
                timed(lambda h=history: judge_step(change, context, history=h), 1, 10)[1]
            )
    us = {label: statistics.median(values) * 1000 for label, values in figures.items()}
    for label in judges:
        print(f"  SequenceJudge.judge after {label} min: {us[label]:.0f} us cpu")
    for label in judges:
        print(
            f"  judge_step reading the whole history, {label} min: "
            f"{statistics.median(whole[label]) * 1000:.0f} us cpu"
        )
    judge = judges["90"]
    _wall, cpu = timed(lambda: judge.after(following), 15, 200)
    print(f"  a copy that has seen one more step done (judge.after): {cpu * 1000:.0f} us cpu")
    growth = us["90"] / us["10"]
    print(
        f"  GOAL judge cost at 90 min / at 10 min: {growth:.2f}; goal <= {JUDGE_GROWTH_GOAL:g} "
        f"(does not grow), ratio {growth / JUDGE_GROWTH_GOAL:.2f}"
    )


def geometry() -> None:
    atlas = default_atlas()
    generator = np.random.default_rng(7)
    xs = generator.uniform(-1.1, 1.1, 100_000)
    ys = generator.uniform(-0.05, 1.12, 100_000)
    _wall, cpu = timed(lambda: atlas.geometry.membership(xs, ys), 5)
    print(f"  regions at 100,000 points: {cpu:.0f} ms cpu ({100_000 / cpu * 1000:,.0f} points/s)")
    _wall, cpu = timed(lambda: atlas.geometry.clearance_cm(xs[:10_000], ys[:10_000]), 5)
    print(f"  clearance to bone/kidneys at 10,000 points: {cpu:.0f} ms cpu")


def main() -> None:
    print("backrub planner and judge benchmark")
    plans()
    judging()
    print("geometry")
    geometry()


if __name__ == "__main__":
    main()
