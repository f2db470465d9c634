"""The tool path as CSV: one row per sample, SI units, the frame and the fit in a header.

Lines starting with # come first (the format, the frame, the fit, the rate, the units); then a
header row and the samples. Any CSV reader that skips # lines (pandas: comment="#") reads it.
"""

from __future__ import annotations

from typing import TextIO

import numpy as np

from backrub.robot.toolpath import CONTACTS, TECHNIQUES, ToolPath

CSV_FORMAT = "backrub.robot.path"
CSV_VERSION = 1

# (column, meaning): documented in docs/robot.md too.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("t_s", "time since the session started, s"),
    ("x_m", "tool centre x (toward the receiver's right shoulder), m"),
    ("y_m", "tool centre y (down the spine), m"),
    ("z_m", "tool centre z (into the body; the skin is at z = h(x, y)), m"),
    ("qw", "tool orientation quaternion w: the tool's z axis along the inward normal"),
    ("qx", "quaternion x"),
    ("qy", "quaternion y"),
    ("qz", "quaternion z"),
    ("nx", "outward surface normal x under the tool"),
    ("ny", "outward surface normal y"),
    ("nz", "outward surface normal z (negative: toward the giver)"),
    ("force_n", "normal force pressed into the body, N"),
    ("pressure_kpa", "mean pressure over the contact area, kPa"),
    ("speed_m_s", "tool centre speed, m/s"),
    ("region", "atlas region under the tool ('none' between regions)"),
    ("level", "pressure level 1-5 of the step, after live changes"),
    ("technique", "technique of the step"),
    ("contact", "contact (tool) of the step"),
    ("touching", "1 when the tool presses on the skin, 0 when lifted or moving between lines"),
    ("step", "step id in the plan"),
)


def header_lines(path: ToolPath, *, plan_name: str) -> list[str]:
    fit = path.context.fit
    return [
        f"# {CSV_FORMAT} version {CSV_VERSION}: {plan_name}",
        "# frame: back frame in metres; origin at the base of the skull on the midline; x toward "
        "the receiver's right shoulder tip, y down the spine toward S2, z = x cross y (into the "
        "body); right-handed",
        f"# fit: shoulder_width_cm={fit.shoulder_width_cm:g} skull_to_s2_cm={fit.skull_to_s2_cm:g}",
        f"# rate_hz: {path.rate_hz:g}; samples: {len(path)}; duration_s: {path.duration:.3f}",
        "# units: SI (s, m, N, kPa, m/s); quaternions (w, x, y, z)",
        *(f"# column {name}: {meaning}" for name, meaning in COLUMNS),
    ]


def write_csv(path: ToolPath, stream: TextIO, *, plan_name: str = "plan") -> None:
    for line in header_lines(path, plan_name=plan_name):
        stream.write(line + "\n")
    stream.write(",".join(name for name, _ in COLUMNS) + "\n")
    names = [_quoted(name) for name in (*path.context.grid.ids, "none")]
    techniques = [t.value for t in TECHNIQUES]
    contacts = [c.value for c in CONTACTS]
    steps = [_quoted(step) for step in path.context.step_ids]
    row = ",".join(
        ["%.4f"] + ["%.6f"] * 10 + ["%.3f", "%.2f", "%.4f", "%s", "%d", "%s", "%s", "%d", "%s"]
    )
    columns = zip(
        path.t.tolist(),
        *path.position.T.tolist(),
        *path.quaternion.T.tolist(),
        *path.normal.T.tolist(),
        path.force.tolist(),
        path.pressure_kpa.tolist(),
        path.speed.tolist(),
        [names[index] for index in path.region.tolist()],
        path.level.tolist(),
        [techniques[index] for index in path.technique.tolist()],
        [contacts[index] for index in path.contact.tolist()],
        path.touching.astype(np.int8).tolist(),
        [steps[index] for index in path.step.tolist()],
        strict=True,
    )
    # One format string per row: much faster than a csv writer on hundreds of thousands of rows.
    chunk: list[str] = []
    for values in columns:
        chunk.append(row % values)
        if len(chunk) == 50_000:
            stream.write("\n".join(chunk) + "\n")
            chunk = []
    if chunk:
        stream.write("\n".join(chunk) + "\n")


def _quoted(text: str) -> str:
    """A CSV field: quoted only when it holds a comma, a quote or a line break."""
    if any(mark in text for mark in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text
