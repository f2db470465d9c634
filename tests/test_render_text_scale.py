"""Maps for small screens (issue 11): `text_scale` enlarges every word and step disc, long titles
wrap inside the map, and numbered step discs never cover each other however many share a spot."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from backrub.atlas import Atlas, Tissue, default_atlas
from backrub.method.step import Step
from backrub.render import render_back_map
from tests.render_helpers import SVG, sweep_step


def _step(number: int, region: str) -> Step:
    return sweep_step(f"upper-back.s{number}", (region,))


def _sizes(svg: str) -> list[float]:
    root = ET.fromstring(svg)
    return [float(text.get("font-size", "0")) for text in root.iter(f"{SVG}text")]


def _discs(svg: str) -> list[tuple[float, float, float]]:
    root = ET.fromstring(svg)
    found = []
    for marker in root.iter(f"{SVG}g"):
        if marker.get("class") == "step-marker":
            circle = marker.find(f"{SVG}circle")
            assert circle is not None
            found.append(
                (float(circle.get("cx", 0)), float(circle.get("cy", 0)), float(circle.get("r", 0)))
            )
    return found


def test_text_scale_enlarges_every_word(atlas: Atlas) -> None:
    steps = [_step(1, "upper-trapezius-left")]
    plain = _sizes(render_back_map(atlas, steps=steps, labels=False, width_px=480))
    scaled = _sizes(render_back_map(atlas, steps=steps, labels=False, width_px=480, text_scale=1.5))
    assert min(plain) >= 12  # nothing under 12 units even unscaled (side words, step numbers)
    assert min(scaled) >= 18
    assert len(scaled) == len(plain)


def test_a_long_title_wraps_inside_the_map(atlas: Atlas) -> None:
    title = "Knots found on Alexandra-Maria's back, and the trouble spots they named"
    root = ET.fromstring(
        render_back_map(atlas, labels=False, width_px=480, title=title, text_scale=1.6)
    )
    lines = [text for text in root.iter(f"{SVG}text") if text.get("class") == "title"]
    assert len(lines) > 1
    assert " ".join(line.text or "" for line in lines) == title
    for line in lines:
        width = len(line.text or "") * float(line.get("font-size", "0")) * 0.58
        assert width <= 480 - 2 * 14 + 1, line.text


MUSCLES = [region.id for region in default_atlas().regions if region.tissue is Tissue.MUSCLE]


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(MUSCLES), min_size=2, max_size=70))
def test_step_discs_never_overlap(regions: list[str]) -> None:
    """However many steps share a region, every disc keeps clear of every other."""
    steps = [_step(number, region) for number, region in enumerate(regions, start=1)]
    svg = render_back_map(default_atlas(), steps=steps, labels=False, width_px=480, text_scale=1.66)
    discs = _discs(svg)
    assert len(discs) == len(steps)
    for (ax, ay, ar), (bx, by, br) in itertools.combinations(discs, 2):
        assert math.dist((ax, ay), (bx, by)) >= ar + br
