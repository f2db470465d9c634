"""The tool path drawn on the back map, and the force over time beneath it, as one SVG."""

from __future__ import annotations

import re
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from backrub.atlas import Atlas
from backrub.render.markup import AttributeValue, element, group, number, polyline_data
from backrub.render.palette import heat_colour
from backrub.render.svg import map_frame, render_back_map
from backrub.robot.toolpath import ToolPath

_WIDTH = 720
_CHART_HEIGHT = 220.0
_MARGIN = 48.0
_MAX_POINTS = 4000  # per drawn line: enough for the eye, small enough for a browser
_FULL_SCALE_N = 80.0  # the top of the deep level: the darkest colour


def _thinned(indexes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    if len(indexes) <= _MAX_POINTS:
        return indexes
    return np.asarray(
        indexes[np.linspace(0, len(indexes) - 1, _MAX_POINTS).round().astype(int)], dtype=np.int64
    )


def _runs(flags: np.ndarray, steps: np.ndarray) -> list[tuple[int, int]]:
    """Index ranges where `flags` and the step stay the same."""
    change = np.flatnonzero((np.diff(flags.astype(np.int8)) != 0) | (np.diff(steps) != 0)) + 1
    bounds = [0, *change.tolist(), len(flags)]
    return list(pairwise(bounds))


def _path_on_map(path: ToolPath, atlas: Atlas, title: str) -> list[str]:
    frame = map_frame(atlas, width_px=_WIDTH, labels=False, title=title)
    parts = []
    for start, end in _runs(path.working, path.step):
        indexes = _thinned(np.arange(start, end))
        if len(indexes) < 2:
            continue
        points = [frame.px((float(x), float(y))) for x, y in path.frame_xy[indexes]]
        if path.working[start]:
            force = float(path.force[start:end].mean())
            style: dict[str, AttributeValue] = {
                "stroke": heat_colour(0.25 + 0.75 * force / _FULL_SCALE_N),
                "stroke-width": 2.0,
            }
        else:
            style = {"stroke": "#888888", "stroke-width": 1.0, "stroke-dasharray": "4 3"}
        parts.append(
            element(
                "path", {"class": "tool-path", "d": polyline_data(points), "fill": "none", **style}
            )
        )
    return parts


def _force_chart(path: ToolPath, top: float) -> list[str]:
    left, right = _MARGIN, _WIDTH - 16.0
    bottom = top + _CHART_HEIGHT - 30
    ceiling = max(5.0, float(path.force.max()) * 1.1)
    duration = max(path.duration, 1e-9)

    def px(t: float, force: float) -> tuple[float, float]:
        return (
            left + (right - left) * t / duration,
            bottom - (bottom - top - 20) * force / ceiling,
        )

    # The highest force in each pixel column, so strikes and peaks stay visible when thinned.
    columns = int(right - left)
    bins = np.minimum((path.t / duration * columns).astype(int), columns - 1)
    peaks = np.zeros(columns)
    np.maximum.at(peaks, bins, path.force)
    points = [px(duration * (c + 0.5) / columns, float(p)) for c, p in enumerate(peaks)]
    axis: dict[str, AttributeValue] = {"stroke": "#444444", "stroke-width": 1.0}
    parts = [
        element(
            "text",
            {"x": left, "y": top + 12, "font-size": 13},
            text="Normal force (N) over time (s)",
        ),
        element(
            "path",
            {
                "d": polyline_data([(left, top + 20), (left, bottom), (right, bottom)]),
                "fill": "none",
                **axis,
            },
        ),
        element(
            "text", {"x": left - 6, "y": bottom, "font-size": 11, "text-anchor": "end"}, text="0"
        ),
        element(
            "text",
            {"x": left - 6, "y": top + 26, "font-size": 11, "text-anchor": "end"},
            text=number(ceiling),
        ),
        element(
            "text",
            {"x": right, "y": bottom + 16, "font-size": 11, "text-anchor": "end"},
            text=f"{duration:.0f} s",
        ),
        element(
            "path",
            {
                "class": "force",
                "d": polyline_data(points),
                "fill": "none",
                "stroke": "#045a8d",
                "stroke-width": 1.2,
            },
        ),
    ]
    return parts


def draw_path(path: ToolPath, atlas: Atlas, *, title: str = "Robot tool path") -> str:
    """The back map with the tool's path (coloured by force; dashed where lifted) and the force."""
    back = render_back_map(atlas, labels=False, markers=False, title=title, width_px=_WIDTH)
    found = re.search(r'height="(\d+)"', back)
    height = float(found.group(1)) if found else 900.0
    body = [
        back,
        group({"class": "robot-path"}, _path_on_map(path, atlas, title)),
        group({"class": "force-chart"}, _force_chart(path, height)),
    ]
    total = round(height + _CHART_HEIGHT)
    root: dict[str, AttributeValue] = {
        "xmlns": "http://www.w3.org/2000/svg",
        "width": _WIDTH,
        "height": total,
        "viewBox": f"0 0 {_WIDTH} {total}",
        "font-family": "sans-serif",
    }
    return element("svg", root, "\n" + "\n".join(part for part in body if part) + "\n") + "\n"
