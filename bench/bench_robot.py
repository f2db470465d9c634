"""Robot executor figures: sampling and checking a whole session, and reacting to an event.

Run with `make bench`. Prints figures; asserts nothing. Goals (issue 13): a 30-minute plan at
500 Hz generated and every sample checked in at most 1 s, at 1 kHz in at most 2 s.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from backrub.planner import PlanRequest, make_plan
from backrub.robot import count_over, plan_path, sample_plan
from backrub.robot.caps import breaches
from backrub.robot.regions import region_grid


def timed(action: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall time and median CPU time of `repeats` runs, in seconds.

    On a shared machine the wall time includes waiting for a core; the process's CPU time is
    what the work itself costs."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    print("backrub robot benchmark (medians of repeated runs)")
    start = time.perf_counter()
    region_grid()
    print(f"  region raster, built once per process: {time.perf_counter() - start:.2f} s")
    plan = make_plan(PlanRequest(minutes=30, activities=("computer-work",)))
    for rate in (500.0, 1000.0):
        path = plan_path(plan, rate_hz=rate)
        wall, cpu = timed(lambda rate=rate: plan_path(plan, rate_hz=rate), 5)
        _, sample = timed(lambda rate=rate: sample_plan(plan, rate_hz=rate), 3)
        _, check = timed(lambda path=path: breaches(path), 3)
        print(
            f"  30-min plan at {rate:.0f} Hz: {len(path):,} samples, generated and checked in "
            f"{wall:.2f} s wall, {cpu:.2f} s CPU (sampling {sample:.2f} s, checking "
            f"{check:.2f} s CPU); samples over a cap: {count_over(path)}"
        )


if __name__ == "__main__":
    main()
