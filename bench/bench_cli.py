"""Command-line start-up: `backrub --help` and `backrub plan -m 20 --json` against `import typer`.

Run with `make bench`. Each command runs as a new process of this interpreter (the project's
.venv), in rounds that take the three in turn, so a busy machine slows all three alike; the
figure for each is its best wall time (what the machine can do), and the ratios are to Python
starting and importing Typer, the least any Typer command can cost. The CPU time each process
used is printed too: on a busy machine it wavers far less than the wall time. Prints figures;
asserts nothing. Goals (issue 12): --help within 1.5x, plan within 3x.

The commands run with byte code written and read (PYTHONDONTWRITEBYTECODE is dropped from their
environment), as for an installed backrub: otherwise every backrub module would be compiled
again on every start while Typer's, installed with byte code, would not.

`python bench/bench_cli.py --instructions` also counts the instructions each command executes
under valgrind's callgrind (when valgrind is installed; about a minute): unlike any time, the
count and its ratio are the same on a busy machine as on a quiet one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 7
HELP_GOAL = 1.5
PLAN_GOAL = 3.0


def commands() -> dict[str, list[str]]:
    backrub = Path(sys.executable).with_name("backrub")
    return {
        "python -c 'import typer'": [sys.executable, "-c", "import typer"],
        "backrub --help": [str(backrub), "--help"],
        "backrub plan -m 20 --json": [str(backrub), "plan", "-m", "20", "--json"],
    }


def _environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def seconds(command: list[str]) -> tuple[float, float]:
    """The command's wall time and the CPU time (user + system) its process used."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_environment()
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit code {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def best_times(rounds: int) -> dict[str, tuple[float, float]]:
    """The best wall time and best CPU time of each command over `rounds` rounds, the commands
    taken in turn."""
    runs = commands()
    for command in runs.values():
        seconds(command)  # once first: byte code written, files in the page cache
    best = {name: (float("inf"), float("inf")) for name in runs}
    for _ in range(rounds):
        for name, command in runs.items():
            wall, cpu = seconds(command)
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


def instructions(command: list[str]) -> int | None:
    """The instructions the command executes, counted by callgrind; None without valgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            [
                valgrind,
                "--tool=callgrind",
                f"--callgrind-out-file={folder}/callgrind.out",
                *command,
            ],
            capture_output=True,
            text=True,
            env=_environment(),
            check=False,
        )
    found = re.search(r"Collected : (\d+)", done.stderr)
    return int(found.group(1)) if done.returncode == 0 and found else None


def print_instructions() -> None:
    counts = {name: instructions(command) for name, command in commands().items()}
    base = counts["python -c 'import typer'"]
    if base is None:
        print("  instructions: valgrind is not installed (or failed)")
        return
    for name, count in counts.items():
        ratio = "" if count is None else f", {count / base:.2f}x import typer"
        shown = "failed" if count is None else f"{count / 1e6:.0f}M"
        print(f"  {name}: {shown} instructions{ratio}")


def main() -> None:
    print("backrub command-line start-up benchmark")
    best = best_times(ROUNDS)
    base_wall, base_cpu = best["python -c 'import typer'"]
    goals = {"backrub --help": HELP_GOAL, "backrub plan -m 20 --json": PLAN_GOAL}
    print(
        f"  python -c 'import typer': {base_wall * 1000:.0f} ms wall, "
        f"{base_cpu * 1000:.0f} ms CPU (best of {ROUNDS})"
    )
    for name, goal in goals.items():
        wall, cpu = best[name]
        ratio = wall / base_wall
        verdict = "met" if ratio <= goal else "NOT met"
        print(
            f"  {name}: {wall * 1000:.0f} ms wall, {ratio:.2f}x import typer "
            f"(goal <= {goal}x: {verdict}); {cpu * 1000:.0f} ms CPU, {cpu / base_cpu:.2f}x"
        )
    if "--instructions" in sys.argv[1:]:
        print_instructions()


if __name__ == "__main__":
    main()
