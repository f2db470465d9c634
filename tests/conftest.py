"""Shared fixtures: the shipped atlas and routines, and a runner for the real `backrub` command."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backrub.atlas import Atlas, default_atlas
from backrub.method.routine import Routine, built_in_routine
from backrub.method.step import Step
from backrub.method.vocabulary import Contact, PhaseKind, PressureLevel, StepSide, Technique
from tests.webserver import Server, start_server

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

RunBackrub = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def atlas() -> Atlas:
    return default_atlas()


@pytest.fixture(scope="session")
def classic() -> Routine:
    return built_in_routine("classic")


@pytest.fixture
def run_backrub(tmp_path: Path) -> RunBackrub:
    """Run `python -m backrub ARGS` as a user would, in a scratch directory, wide terminal."""

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
        return subprocess.run(
            [sys.executable, "-m", "backrub", *args],
            capture_output=True,
            text=True,
            cwd=cwd or tmp_path,
            env=env,
            timeout=120,
        )

    return run


def make_step(step_id: str = "s", **fields: Any) -> Step:
    """A right-side step on the middle trapezius; keyword arguments override any field."""
    values: dict[str, Any] = {
        "id": step_id,
        "phase": PhaseKind.UPPER_BACK,
        "regions": ("middle-trapezius-right",),
        "side": StepSide.RIGHT,
        "technique": Technique.CIRCLES,
        "contact": Contact.HEEL_OF_HAND,
        "pressure": PressureLevel.MODERATE,
        "seconds": 60,
    }
    values.update(fields)
    return Step(**values)


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real server per test module, its clock 20 times fast, on a fresh database."""
    server = start_server(tmp_path_factory.mktemp("web"), speed=20.0)
    yield server
    server.stop()
