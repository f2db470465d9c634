"""The live page's map: the whole back once, then only the step's part (stroke, hand, knots)."""

from __future__ import annotations

import gzip
import re
import xml.etree.ElementTree as ET

import pytest

from backrub.atlas import Atlas
from backrub.method.routine import Routine
from backrub.method.step import Step
from backrub.method.vocabulary import Contact, Direction
from backrub.render.live_map import live_map, step_overlay

SVG = "{http://www.w3.org/2000/svg}"
TRANSLATE = re.compile(r"translate\(([-\d.]+) ([-\d.]+)\)")
STEP_PART_BYTES = 2_000  # gzip; the whole map is about 6,700


def classes(element: ET.Element) -> set[str]:
    return set((element.get("class") or "").split())


def part(root: ET.Element, name: str) -> ET.Element:
    found = [e for e in root if name in classes(e)]
    assert len(found) == 1, f"{len(found)} groups of class {name}"
    return found[0]


def one_per_contact(classic: Routine) -> list[Step]:
    return list({step.contact: step for step in classic.steps}.values())


def test_the_step_part_carries_the_stroke_the_hand_and_the_waiting_knots(
    atlas: Atlas, classic: Routine
) -> None:
    step = classic.steps[0]
    root = ET.fromstring(step_overlay(atlas, step, ["upper-trapezius-left"]))
    assert root.get("data-step") == step.id
    arrows = part(root, "plan-strokes").findall(f"{SVG}path")
    assert any("stroke-arrow" in classes(a) for a in arrows)
    knots = part(root, "waiting-knots").findall(f"{SVG}circle")
    assert [k.get("data-region") for k in knots] == ["upper-trapezius-left"]
    hand = part(root, "live-hand")
    assert hand.get("data-contact") == step.contact.value
    assert hand.get("aria-hidden") == "true"
    # No region of the whole map: those the page has already.
    assert "region-" not in step_overlay(atlas, step)


def test_the_whole_live_map_has_the_same_step_part(atlas: Atlas, classic: Routine) -> None:
    """The page's first map and a later step part draw the step alike."""
    step = classic.steps[0]
    whole = ET.fromstring(live_map(atlas, step))
    alone = ET.fromstring(step_overlay(atlas, step))
    for name in ("plan-strokes", "live-hand"):
        assert ET.tostring(part(whole, name)) == ET.tostring(part(alone, name)), name
    lit = {e.get("data-region") for e in whole.iter(f"{SVG}g") if "highlight" in classes(e)}
    assert lit == set(step.regions)


@pytest.mark.parametrize("contact", list(Contact))
def test_every_contact_has_its_hand_moving_along_the_stroke_and_a_still_one(
    atlas: Atlas, classic: Routine, contact: Contact
) -> None:
    step = next(
        (s for s in classic.steps if s.contact is contact and s.direction is not Direction.STILL),
        None,
    ) or classic.steps[0].model_copy(update={"contact": contact})
    hand = part(ET.fromstring(step_overlay(atlas, step)), "live-hand")
    assert hand.get("data-contact") == contact.value
    strokes = {
        e.get("d")
        for e in ET.fromstring(step_overlay(atlas, step)).iter(f"{SVG}path")
        if "stroke-arrow" in classes(e)
    }
    moving = [g for g in hand if "hand-moving" in classes(g)]
    still = [g for g in hand if "hand-still" in classes(g)]
    assert 1 <= len(moving) == len(still) <= 2
    for group, rest in zip(moving, still, strict=True):
        motion = group.find(f"{SVG}animateMotion")
        assert motion is not None and motion.get("repeatCount") == "indefinite"
        path = motion.get("path") or ""
        assert path in strokes, "the hand travels the arrow's own path"
        # The still hand waits where the stroke starts.
        start = re.match(r"M([-\d.]+) ([-\d.]+)", path)
        placed = TRANSLATE.search(rest.get("transform") or "")
        assert start and placed and start.groups() == placed.groups()
        assert group.find(f"{SVG}use") is not None and rest.find(f"{SVG}use") is not None


def test_a_hold_has_one_still_hand_and_no_motion(atlas: Atlas, classic: Routine) -> None:
    step = classic.steps[0].model_copy(update={"direction": Direction.STILL})
    hand = part(ET.fromstring(step_overlay(atlas, step)), "live-hand")
    assert [g for g in hand if "hand-hold" in classes(g)]
    assert not list(hand.iter(f"{SVG}animateMotion"))


def test_the_left_hand_works_the_receivers_left(atlas: Atlas, classic: Routine) -> None:
    """Both sides at once: one hand each side of the spine, the left one mirrored."""
    step = next(s for s in classic.steps if s.side.value == "both" and len(s.regions) >= 2)
    hand = part(ET.fromstring(step_overlay(atlas, step)), "live-hand")
    placed = []
    for group in hand:
        if "hand-still" not in classes(group):
            continue
        found = TRANSLATE.search(group.get("transform") or "")
        use = group.find(f"{SVG}use")
        assert found and use is not None
        placed.append((float(found.group(1)), "scale(-1 1)" in (use.get("transform") or "")))
    assert len(placed) == 2
    (left_x, left_mirrored), (right_x, right_mirrored) = sorted(placed)
    assert left_x < right_x and left_mirrored and not right_mirrored


def test_every_step_part_is_small(atlas: Atlas, classic: Routine) -> None:
    """What a step change downloads for the map (the state comes by the stream)."""
    for step in classic.steps:
        packed = len(gzip.compress(step_overlay(atlas, step, ["upper-trapezius-left"]).encode()))
        assert packed < STEP_PART_BYTES, (step.id, packed)


def test_a_one_sided_step_gets_one_hand(atlas: Atlas, classic: Routine) -> None:
    one_sided = [s for s in classic.steps if s.side.value in ("left", "right")]
    # Two muscles on the left at once: still one hand, not two left hands.
    two = ("upper-trapezius-left", "middle-trapezius-left")
    one_sided.append(one_sided[0].model_copy(update={"regions": two, "path": None}))
    for step in one_sided:
        hand = part(ET.fromstring(step_overlay(atlas, step)), "live-hand")
        placed = [g for g in hand if classes(g) & {"hand-still", "hand-hold"}]
        assert len(placed) == 1, step.id
