"""The technique pictures: one for every pair the routines use, each a small animated SVG that
holds still when reduced motion is asked for; and `backrub routines --pictures DIR`."""

from __future__ import annotations

import re
import tomllib
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path
from typing import Any

from backrub.method.pairs import routine_pairs, used_pairs
from backrub.method.routine import BUILT_IN_ROUTINES, parse_routine
from backrub.method.vocabulary import Contact, PressureLevel, Technique
from backrub.method.words import vocabulary
from backrub.render.techniques import caption, picture_name, technique_svg
from tests.conftest import RunBackrub

SVG = "{http://www.w3.org/2000/svg}"
REDUCED = re.compile(r"@media \(prefers-reduced-motion: reduce\)\{[^}]*animation:none")


def routine_files() -> list[dict[str, Any]]:
    folder = resources.files("backrub.method.routines")
    return [tomllib.loads(folder.joinpath(f"{n}.toml").read_text()) for n in BUILT_IN_ROUTINES]


def pairs_in_the_files() -> set[tuple[str, str]]:
    """Read straight from the TOML files, independently of the code under test."""
    found: set[tuple[str, str]] = set()
    for data in routine_files():
        for phase in data["phase"]:
            found |= {(step["technique"], step["contact"]) for step in phase["step"]}
        ladder = data.get("knot_ladder")
        if ladder:
            for rung in [*ladder["rung"], ladder["aftercare"]]:
                found.add((rung.get("technique", "circles"), rung["contact"]))
    return found


def test_the_pairs_are_those_the_routine_files_name() -> None:
    listed = {(t.value, c.value) for t, c in used_pairs()}
    assert listed == pairs_in_the_files()
    # The knot ladder's rungs count too: the elbow appears only there.
    assert ("static-pressure", "elbow") in listed
    assert len(listed) == len(used_pairs())


def test_a_new_pair_in_a_routine_is_found_without_editing_a_list() -> None:
    data = routine_files()[0]
    data["phase"][0]["step"][0]["technique"] = "percussion"
    data["phase"][0]["step"][0]["contact"] = "hand-edges"
    data["phase"][0]["step"][0]["pressure"] = 2
    routine = parse_routine(data, source="edited.toml")
    assert (Technique.PERCUSSION, Contact.HAND_EDGES) in routine_pairs(routine)


def test_every_pair_has_an_animated_picture_with_a_title_and_a_still_frame() -> None:
    for pair in used_pairs():
        text = technique_svg(pair)
        root = ET.fromstring(text)  # parses as XML
        assert root.tag == f"{SVG}svg"
        title = root.find(f"{SVG}title")
        assert title is not None and title.text == caption(pair), pair
        style = root.find(f"{SVG}style")
        assert style is not None and style.text is not None
        assert "@keyframes" in style.text and "infinite" in style.text, pair
        assert REDUCED.search(style.text), f"{pair}: no still frame for reduced motion"
        moving = [g for g in root.iter(f"{SVG}g") if g.get("class") == "move"]
        assert moving, f"{pair}: nothing carries the animation"
        touching = [e for e in root.iter() if e.get("class") == "touch"]
        assert touching, f"{pair}: the part of the hand that touches is not marked"
        assert not any(e.tag == f"{SVG}script" for e in root.iter()), pair
        assert "http" not in text.replace("http://www.w3.org/2000/svg", ""), pair


def test_each_pair_looks_different_and_has_its_own_file_name_and_caption() -> None:
    pairs = used_pairs()
    assert len({technique_svg(pair) for pair in pairs}) == len(pairs)
    assert len({picture_name(pair) for pair in pairs}) == len(pairs)
    assert len({caption(pair) for pair in pairs}) == len(pairs)


def test_two_handed_percussion_alternates_the_hands() -> None:
    text = technique_svg((Technique.PERCUSSION, Contact.LOOSE_FISTS))
    assert text.count('class="move"') == 2
    assert ".second .move{animation-delay:-" in text


def test_the_elbow_picture_shows_its_angle() -> None:
    assert "45°" in technique_svg((Technique.STATIC_PRESSURE, Contact.ELBOW))


def test_every_pressure_level_has_its_own_everyday_comparison() -> None:
    words = vocabulary()
    likes = [words.pressure_like(level) for level in PressureLevel]
    assert all(like.strip() for like in likes)
    assert len(set(likes)) == len(likes)


def test_routines_pictures_writes_one_file_per_pair_and_an_index(
    run_backrub: RunBackrub, tmp_path: Path
) -> None:
    folder = tmp_path / "new" / "pictures"
    result = run_backrub("routines", "--pictures", str(folder))
    assert result.returncode == 0, result.stderr
    written = sorted(path.name for path in folder.iterdir())
    expected = sorted([picture_name(pair) for pair in used_pairs()] + ["index.html"])
    assert written == expected
    index = (folder / "index.html").read_text()
    for pair in used_pairs():
        assert f'src="{picture_name(pair)}"' in index
        ET.fromstring((folder / picture_name(pair)).read_text())


def test_routines_pictures_refuses_a_file(run_backrub: RunBackrub, tmp_path: Path) -> None:
    target = tmp_path / "taken.txt"
    target.write_text("keep me")
    result = run_backrub("routines", "--pictures", str(target))
    assert result.returncode == 2
    assert "taken.txt is a file, not a folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert target.read_text() == "keep me"


def test_any_pair_a_reshaped_step_may_carry_can_be_drawn() -> None:
    # The planner and the engine swap contacts (a stronger or softer one), so a live step can
    # name a pair no routine lists; its picture must still be there.
    for technique in Technique:
        for contact in Contact:
            root = ET.fromstring(technique_svg((technique, contact)))
            title = root.find(f"{SVG}title")
            assert title is not None and title.text == caption((technique, contact))
