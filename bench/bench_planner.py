"""Planner and geometry figures: how long a plan takes, how fast the atlas answers.

Run with `make bench`. Prints figures; asserts nothing (speed goals are read, not tested).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from backrub.atlas import default_atlas
from backrub.planner import PlanRequest, make_plan
from backrub.safety import judge_plan


def timed(action: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median and worst wall time of `repeats` runs, in milliseconds."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    atlas = default_atlas()
    print("backrub planner benchmark (median / worst of repeated runs)")
    for minutes, spots in (
        (5, ()),
        (20, ()),
        (20, ("upper-trapezius-left", "teres-right")),
        (60, ()),
        (90, ("latissimus-left",)),
    ):
        request = PlanRequest(minutes=minutes, trouble_spots=spots, activities=("running",))
        plan = make_plan(request)
        median, worst = timed(lambda request=request: make_plan(request), 30)
        print(
            f"  plan {minutes:>2} min, {len(spots)} trouble spot(s): {len(plan.steps):>3} steps, "
            f"{median:6.1f} ms median, {worst:6.1f} ms worst"
        )
    plan = make_plan(PlanRequest(minutes=60))
    median, worst = timed(lambda: judge_plan(plan), 30)
    print(f"  judge a {len(plan.steps)}-step plan against every rule: {median:.1f} ms median")
    generator = np.random.default_rng(7)
    xs = generator.uniform(-1.1, 1.1, 100_000)
    ys = generator.uniform(-0.05, 1.12, 100_000)
    median, _ = timed(lambda: atlas.geometry.membership(xs, ys), 5)
    print(f"  regions at 100,000 points: {median:.0f} ms ({100_000 / median * 1000:,.0f} points/s)")
    median, _ = timed(lambda: atlas.geometry.clearance_cm(xs[:10_000], ys[:10_000]), 5)
    print(f"  clearance to bone/kidneys at 10,000 points: {median:.0f} ms")


if __name__ == "__main__":
    main()
