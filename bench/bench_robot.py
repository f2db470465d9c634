"""Robot executor figures: sampling and checking a whole session, and reacting to an event.

Run with `make bench`. Prints figures; asserts nothing. Goals (issue 13): a 30-minute plan at
500 Hz generated and every sample checked in at most 1 s, at 1 kHz in at most 2 s; in MuJoCo,
force tracking RMS at most 0.3 N on steady strokes and 1.0 N while the force changes (percussion,
an impact task, is shown apart: peak force against its cap, strikes per second).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from backrub.planner import PlanRequest, make_plan
from backrub.robot import count_over, plan_path, sample_plan
from backrub.robot.caps import breaches
from backrub.robot.live import apply_events, react
from backrub.robot.regions import region_grid
from backrub.robot.sim_report import report
from backrub.robot.simulation import SIM_RATE_HZ, simulate
from backrub.session.events import Event, EventKind


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

    path = plan_path(plan, rate_hz=500.0)
    event = Event(at=600.0, kind=EventKind.PAIN)
    wall, cpu = timed(lambda: react(path, event), 20)
    print(
        f"  react to an event (next 2 s re-generated and re-checked): {wall * 1000:.1f} ms wall, "
        f"{cpu * 1000:.1f} ms CPU; one control period at 500 Hz is 2 ms"
    )
    simulation()


def simulation() -> None:
    """MuJoCo: a whole 5-minute plan, with less, more and pain along the way."""
    short = make_plan(PlanRequest(minutes=5, activities=("computer-work",)))
    path = plan_path(short, rate_hz=SIM_RATE_HZ)
    script = [
        Event(at=150.0, kind=EventKind.LESS),
        Event(at=160.0, kind=EventKind.MORE),
        Event(at=170.0, kind=EventKind.PAIN),
    ]
    result = report(simulate(apply_events(path, script)))
    tracking = result["tracking"]
    print(
        f"  MuJoCo, {result['duration_s']:.0f} s at 1 kHz: {result['realtime_factor']:.1f}x real "
        f"time wall, {result['realtime_factor_cpu']:.1f}x by CPU time (goal 20x)"
    )
    print(
        f"  force tracking RMS {tracking['rms_n']} N; steady {tracking['steady_rms_n']} N "
        f"(goal 0.3 N, percussion apart); while the force changes "
        f"{tracking['changing_rms_n']} N (goal 1.0 N); "
        f"worst {tracking['worst_n']} N; the tool {tracking['path_rms_mm']} mm RMS off its path"
    )
    for entry in result["steps"]:
        print(f"    {entry['step']} ({entry['technique']}): RMS {entry['rms_n']} N")
    strikes = result["percussion"]
    if strikes["seconds"]:
        # An impact task: peak force against its cap and the strike rate, not steady tracking.
        print(
            f"  percussion, {strikes['seconds']} s of strikes: peak {strikes['peak_n']} N "
            f"(planned {strikes['planned_peak_n']} N, cap {strikes['cap_n']} N, "
            f"{strikes['over_cap_samples']} samples over it); {strikes['strikes_per_s']} strikes/s "
            f"(planned {strikes['planned_strikes_per_s']}); tracking RMS "
            f"{tracking['percussion_rms_n']} N"
        )
    hazards = len(result["over_cap_on_bone_or_kidneys"])
    print(f"  samples on bone or kidneys over a cap: {hazards}")
    for reaction in result["reactions"]:
        print(f"    {reaction['kind']} at {reaction['at_s']} s: {reaction['seconds']} s")


if __name__ == "__main__":
    main()
