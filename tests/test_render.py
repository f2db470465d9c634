"""The SVG back map: what a person opening the picture sees, checked on the parsed drawing."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from itertools import pairwise

import pytest

from backrub.atlas import Atlas, Tissue
from backrub.atlas.model import Point
from backrub.errors import UnknownNameError
from backrub.method.routine import Routine
from backrub.method.vocabulary import (
    Direction,
    StepSide,
    Technique,
)
from backrub.render import draw_atlas, draw_plan, render_back_map
from tests.render_helpers import SVG
from tests.render_helpers import sweep_step as _step


@pytest.fixture(scope="module")
def atlas_map(atlas: Atlas) -> ET.Element:
    return ET.fromstring(draw_atlas(atlas, title="backrub back map"))


def _classes(element: ET.Element) -> set[str]:
    return set(element.get("class", "").split())


def _regions(root: ET.Element) -> dict[str, ET.Element]:
    return {
        element.get("data-region", ""): element
        for element in root.iter()
        if element.get("id", "").startswith("region-")
    }


def _region_fill(region: ET.Element) -> str:
    shape = region.find(f"{SVG}path")
    assert shape is not None
    return shape.get("fill", "")


def _points(path_data: str) -> list[Point]:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path_data)]
    return list(zip(numbers[0::2], numbers[1::2], strict=True))


def _arrows(root: ET.Element, step_id: str) -> list[ET.Element]:
    return [
        element
        for element in root.iter(f"{SVG}path")
        if "stroke-arrow" in _classes(element) and element.get("data-step") == step_id
    ]


def test_the_map_is_a_standalone_svg_file(atlas_map: ET.Element) -> None:
    assert atlas_map.tag == f"{SVG}svg"
    assert atlas_map.get("viewBox", "").startswith("0 0 720 ")
    assert atlas_map.get("width") == "720"
    assert int(atlas_map.get("height", "0")) > 720, "a back is taller than it is wide"
    assert atlas_map.get("font-family") == "sans-serif"
    tags = {element.tag for element in atlas_map.iter()}
    assert f"{SVG}script" not in tags
    assert f"{SVG}image" not in tags
    for element in atlas_map.iter():
        for value in element.attrib.values():
            assert "://" not in value, f"external reference in <{element.tag}>: {value}"


def test_the_back_keeps_real_proportions(atlas: Atlas, atlas_map: ET.Element) -> None:
    def centre(landmark_id: str) -> Point:
        dot = next(e for e in atlas_map.iter() if e.get("id") == f"landmark-{landmark_id}")
        return float(dot.get("cx", "nan")), float(dot.get("cy", "nan"))

    shoulders = math.dist(centre("shoulder-tip-left"), centre("shoulder-tip-right"))
    skull_to_s2 = math.dist(centre("skull-base"), centre("s2"))
    # Shoulder tips 40 cm apart, skull base to S2 58 cm: the drawing must keep that ratio.
    assert shoulders / skull_to_s2 == pytest.approx(40 / 58, rel=0.02)


def test_receiver_left_is_on_the_left_of_the_picture(atlas_map: ET.Element) -> None:
    texts = {
        element.text: float(element.get("x", "nan"))
        for element in atlas_map.iter(f"{SVG}text")
        if element.text in ("L", "R")
    }
    middle = float(atlas_map.get("width", "nan")) / 2
    assert texts["L"] < middle < texts["R"]
    for side, on_left in (("left", True), ("right", False)):
        shape = _regions(atlas_map)[f"upper-trapezius-{side}"].find(f"{SVG}path")
        assert shape is not None
        xs = [x for x, _ in _points(shape.get("d", ""))]
        assert (max(xs) <= middle) if on_left else (min(xs) >= middle)


def test_every_region_is_drawn_with_its_tissue_area_side_and_name(
    atlas: Atlas, atlas_map: ET.Element
) -> None:
    drawn = _regions(atlas_map)
    assert set(drawn) == set(atlas.region_ids)
    for region in atlas.regions:
        element = drawn[region.id]
        assert element.get("id") == f"region-{region.id}"
        assert {
            "region",
            f"tissue-{region.tissue}",
            f"area-{region.area}",
            f"side-{region.side}",
        } <= _classes(element)
        assert element.findtext(f"{SVG}title") == region.name
        shape = element.find(f"{SVG}path")
        assert shape is not None and len(_points(shape.get("d", ""))) >= 3


def test_bone_and_caution_use_their_patterns_and_muscle_areas_differ(
    atlas: Atlas, atlas_map: ET.Element
) -> None:
    patterns = {p.get("id") for p in atlas_map.iter(f"{SVG}pattern")}
    drawn = _regions(atlas_map)
    fills: dict[Tissue, set[str]] = {tissue: set() for tissue in Tissue}
    for region in atlas.regions:
        fills[region.tissue].add(_region_fill(drawn[region.id]))
    assert len(fills[Tissue.BONE]) == 1 and len(fills[Tissue.CAUTION]) == 1
    for tissue in (Tissue.BONE, Tissue.CAUTION):
        (fill,) = fills[tissue]
        match = re.fullmatch(r"url\(#([\w-]+)\)", fill)
        assert match is not None and match.group(1) in patterns
    assert fills[Tissue.BONE] != fills[Tissue.CAUTION]
    assert not any(fill.startswith("url(") for fill in fills[Tissue.MUSCLE])
    area_fills = {
        region.area: _region_fill(drawn[region.id])
        for region in atlas.regions
        if region.tissue is Tissue.MUSCLE
    }
    assert len(set(area_fills.values())) == 3, "neck, upper and lower back look alike"
    kidney = drawn["kidney-left"].find(f"{SVG}path")
    assert kidney is not None and kidney.get("stroke-dasharray")


def test_bone_and_caution_are_drawn_over_the_muscles(atlas_map: ET.Element) -> None:
    order = [element for element in atlas_map.iter() if element.get("id", "").startswith("region-")]
    last_muscle = max(n for n, e in enumerate(order) if "tissue-muscle" in _classes(e))
    first_other = min(n for n, e in enumerate(order) if "tissue-muscle" not in _classes(e))
    assert last_muscle < first_other


def test_every_region_base_has_a_readable_label(atlas: Atlas, atlas_map: ET.Element) -> None:
    labels = {
        element.get("data-label-for"): element
        for element in atlas_map.iter(f"{SVG}g")
        if "label" in _classes(element)
    }
    assert set(labels) == set(atlas.bases())
    rows: dict[str, list[float]] = {}
    for label in labels.values():
        text = label.find(f"{SVG}text")
        assert text is not None and text.text and text.text.strip()
        rows.setdefault(text.get("text-anchor", ""), []).append(float(text.get("y", "nan")))
        assert label.findtext(f"{SVG}title")
    assert labels["upper-trapezius"].findtext(f"{SVG}text") == "upper trapezius"
    # Labels sit in two columns; within one, lines at least a font height apart never overlap.
    assert len(rows) == 2
    for ys in rows.values():
        ys.sort()
        assert all(b - a >= 12 for a, b in pairwise(ys))


def test_no_labels_when_asked_for_a_bare_map(atlas: Atlas) -> None:
    root = ET.fromstring(render_back_map(atlas, labels=False, width_px=400))
    assert not [e for e in root.iter(f"{SVG}g") if "label" in _classes(e)]
    assert set(_regions(root)) == set(atlas.region_ids)
    assert root.get("width") == "400"


def test_landmarks_are_dots_with_names(atlas: Atlas, atlas_map: ET.Element) -> None:
    for landmark in atlas.landmarks:
        dot = next(e for e in atlas_map.iter() if e.get("id") == f"landmark-{landmark.id}")
        assert dot.findtext(f"{SVG}title") == landmark.name


def test_highlight_lights_exactly_the_named_regions(atlas: Atlas) -> None:
    wanted = {"upper-trapezius-left", "spine"}
    root = ET.fromstring(render_back_map(atlas, highlight=wanted))
    lit = {rid for rid, element in _regions(root).items() if "highlight" in _classes(element)}
    assert lit == wanted
    glows = [e for e in root.iter(f"{SVG}path") if "highlight-glow" in _classes(e)]
    assert len(glows) == 2
    one = ET.fromstring(render_back_map(atlas, highlight="neck-right"))
    assert {r for r, e in _regions(one).items() if "highlight" in _classes(e)} == {"neck-right"}


def test_unknown_region_names_are_refused(atlas: Atlas) -> None:
    with pytest.raises(UnknownNameError, match="upper-trap-left"):
        render_back_map(atlas, highlight=["upper-trap-left"])
    with pytest.raises(UnknownNameError):
        render_back_map(atlas, heat={"nowhere": 1.0})
    with pytest.raises(UnknownNameError):
        draw_plan(atlas, [_step("s1", ("nowhere",))])


def test_heat_colours_run_from_cold_to_hot(atlas: Atlas) -> None:
    root = ET.fromstring(
        render_back_map(atlas, heat={"neck-left": 0.0, "neck-right": 1.0, "teres-left": 0.5})
    )
    drawn = _regions(root)
    cold, hot = _region_fill(drawn["neck-left"]), _region_fill(drawn["neck-right"])
    assert cold != hot
    assert len({cold, hot, _region_fill(drawn["teres-left"])}) == 3
    assert {"heat"} <= _classes(drawn["neck-right"])
    # A muscle the summary leaves out was not worked, so it shows as cold too.
    assert _region_fill(drawn["latissimus-right"]) == cold
    gradients = {g.get("id") for g in root.iter(f"{SVG}linearGradient")}
    scale = [e for e in root.iter(f"{SVG}rect") if e.get("fill", "").startswith("url(#")]
    assert any(e.get("fill") == f"url(#{g})" for e in scale for g in gradients)


def test_a_plan_numbers_its_steps_in_order_with_an_arrow_each(atlas: Atlas) -> None:
    steps = [
        _step("neck", ("neck-left",)),
        _step("trap", ("upper-trapezius-left",), Direction.OUTWARD),
        _step("trap-again", ("upper-trapezius-left",), Direction.INWARD),
        _step("lat", ("latissimus-right",), Direction.UP, side=StepSide.RIGHT),
        _step("blade", ("shoulder-blade-right",), Direction.CIRCLES, side=StepSide.RIGHT),
    ]
    root = ET.fromstring(draw_plan(atlas, steps, title="plan"))
    markers = [e for e in root.iter(f"{SVG}g") if "step-marker" in _classes(e)]
    assert [m.get("data-step") for m in markers] == [s.id for s in steps]
    assert [m.findtext(f"{SVG}text") for m in markers] == ["1", "2", "3", "4", "5"]
    arrows = [e for e in root.iter(f"{SVG}path") if "stroke-arrow" in _classes(e)]
    assert len(arrows) >= len(steps)
    assert all(a.get("marker-end", "").startswith("url(#") for a in arrows)
    assert "numbered steps in order" in "".join(root.itertext())


def test_markers_for_the_same_region_do_not_cover_each_other(atlas: Atlas) -> None:
    steps = [_step(f"s{n}", ("middle-trapezius-left",)) for n in range(4)]
    root = ET.fromstring(draw_plan(atlas, steps))
    centres = []
    for marker in (e for e in root.iter(f"{SVG}g") if "step-marker" in _classes(e)):
        disc = marker.find(f"{SVG}circle")
        assert disc is not None
        centres.append((float(disc.get("cx", "nan")), float(disc.get("cy", "nan"))))
        radius = float(disc.get("r", "nan"))
    assert len(centres) == len(steps), "one marker a step"  # else the check below is empty
    assert all(
        math.dist(a, b) >= 2 * radius for n, a in enumerate(centres) for b in centres[n + 1 :]
    )


def test_an_up_stroke_runs_opposite_to_a_down_stroke(atlas: Atlas) -> None:
    region = ("paraspinal-upper-left",)
    root = ET.fromstring(
        draw_plan(atlas, [_step("down", region), _step("up", region, Direction.UP)])
    )
    (down,), (up,) = _arrows(root, "down"), _arrows(root, "up")
    down_points, up_points = _points(down.get("d", "")), _points(up.get("d", ""))
    assert down_points[-1][1] > down_points[0][1], "a down stroke must end lower on the page"
    assert up_points == list(reversed(down_points))


def test_outward_and_inward_follow_the_side(atlas: Atlas) -> None:
    steps = [
        _step("out", ("upper-trapezius-left",), Direction.OUTWARD),
        _step("in", ("upper-trapezius-right",), Direction.INWARD, side=StepSide.RIGHT),
    ]
    root = ET.fromstring(draw_plan(atlas, steps))
    (outward,), (inward,) = _arrows(root, "out"), _arrows(root, "in")
    out_points, in_points = _points(outward.get("d", "")), _points(inward.get("d", ""))
    # The left side is on the left of the picture: outward on it runs leftwards.
    assert out_points[-1][0] < out_points[0][0]
    assert in_points[-1][0] < in_points[0][0]


def test_a_step_with_its_own_path_draws_that_path(atlas: Atlas) -> None:
    path = ((-0.1, 0.9), (-0.1, 0.25), (-0.5, 0.2))
    step = _step(
        "long", ("paraspinal-lower-left", "paraspinal-upper-left"), Direction.UP, path=path
    )
    root = ET.fromstring(draw_plan(atlas, [step]))
    (arrow,) = _arrows(root, "long")
    points = _points(arrow.get("d", ""))
    assert len(points) == 3
    assert points[0][1] > points[1][1], "drawn from the low end, as the path travels"
    assert points[2][0] < points[1][0], "ends out towards the left shoulder"


def test_circles_get_a_round_arrow_and_a_hold_gets_no_arrow(atlas: Atlas) -> None:
    steps = [
        _step("round", ("shoulder-blade-left",), Direction.CIRCLES),
        _step("hold", ("skull-base-left",), Direction.STILL),
    ]
    root = ET.fromstring(draw_plan(atlas, steps))
    (circle,) = _arrows(root, "round")
    assert " A" in circle.get("d", "")
    assert _arrows(root, "hold") == []
    holds = [e for e in root.iter(f"{SVG}g") if "stroke-hold" in _classes(e)]
    assert [h.get("data-step") for h in holds] == ["hold"]


def test_text_is_escaped(atlas: Atlas) -> None:
    title = 'Tom & Jerry\'s <back> "map"'
    svg = draw_atlas(atlas, title=title)
    assert "&lt;back&gt;" in svg and "Tom &amp; Jerry" in svg
    root = ET.fromstring(svg)
    shown = [e.text for e in root.iter(f"{SVG}text") if "title" in _classes(e)]
    assert shown == [title]
    steps = [_step('a"<&>', ("neck-left",))]
    plan = ET.fromstring(draw_plan(atlas, steps, title="<&>"))
    markers = [e for e in plan.iter(f"{SVG}g") if "step-marker" in _classes(e)]
    assert markers[0].get("data-step") == 'a"<&>'


def test_a_width_too_small_for_the_labels_is_refused(atlas: Atlas) -> None:
    with pytest.raises(ValueError, match="too narrow"):
        render_back_map(atlas, width_px=200)


def test_circles_along_a_line_loop_but_still_travel_the_line(atlas: Atlas) -> None:
    region = ("paraspinal-upper-left",)
    sweep = _step("sweep", region)
    circling = sweep.model_copy(update={"id": "circling", "technique": Technique.CIRCLES})
    root = ET.fromstring(draw_plan(atlas, [sweep, circling]))
    (straight,), (looped,) = _arrows(root, "sweep"), _arrows(root, "circling")
    line, loops = _points(straight.get("d", "")), _points(looped.get("d", ""))
    assert loops[0] == pytest.approx(line[0], abs=0.02)
    assert loops[-1] == pytest.approx(line[-1], abs=0.02)
    # Loops go back up the back now and then; a plain downward sweep never does.
    assert any(b[1] < a[1] for a, b in pairwise(loops))
    assert not any(b[1] < a[1] for a, b in pairwise(line))


def test_the_classic_routine_draws_as_a_numbered_plan(atlas: Atlas, classic: Routine) -> None:
    root = ET.fromstring(draw_plan(atlas, classic.steps, title=classic.title))
    markers = [e for e in root.iter(f"{SVG}g") if "step-marker" in _classes(e)]
    assert [m.findtext(f"{SVG}text") for m in markers] == [
        str(n) for n in range(1, len(classic.steps) + 1)
    ]
    drawn = {e.get("data-step") for e in root.iter() if "stroke-arrow" in _classes(e)}
    drawn |= {e.get("data-step") for e in root.iter() if "stroke-hold" in _classes(e)}
    assert drawn == {step.id for step in classic.steps}, "every step shows how it moves"
