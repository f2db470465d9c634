"""The robot executor: a plan becomes a checked, force-shaped tool path on a 3D back.

Pure and numpy-only (no I/O): exports (CSV, MCAP) and the MuJoCo simulation live beside it and
import their optional packages only when used.
"""

from backrub.robot.caps import CAPS, Breach, breaches, count_over, first_breach
from backrub.robot.executor import UnsafePlanError, plan_path
from backrub.robot.figures import Figures, robot_figures
from backrub.robot.sampler import DEFAULT_RATE_HZ, sample_plan
from backrub.robot.surface import BackSurface
from backrub.robot.toolpath import CONTACTS, TECHNIQUES, ToolPath

__all__ = [
    "CAPS",
    "CONTACTS",
    "DEFAULT_RATE_HZ",
    "TECHNIQUES",
    "BackSurface",
    "Breach",
    "Figures",
    "ToolPath",
    "UnsafePlanError",
    "breaches",
    "count_over",
    "first_breach",
    "plan_path",
    "robot_figures",
    "sample_plan",
]
