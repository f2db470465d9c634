"""The back atlas: every region the method names, mirrored correctly, with the landmarks."""

from __future__ import annotations

from pathlib import Path

import pytest

from backrub.atlas import Atlas, Side, Tissue, default_atlas
from backrub.errors import DataFileError, UnknownNameError

# The anatomy METHOD.md names, by the atlas base that stands for it.
NAMED_BY_METHOD = {
    "upper-trapezius": "trapezius (upper ridge)",
    "middle-trapezius": "trapezius (middle)",
    "lower-trapezius": "trapezius (lower)",
    "teres": "teres major and minor",
    "latissimus": "latissimus dorsi",
    "paraspinal-upper": "muscles beside the spine",
    "paraspinal-lower": "muscles beside the spine",
    "intercostal": "small breathing muscles between the ribs",
    "skull-base": "base of the skull (where neck muscles attach)",
    "occipital-ridge": "base of the skull (the ridge)",
    "shoulder-blade": "the shoulder blade",
    "scapular-spine": "the ridge of the shoulder blade",
    "iliac-crest": "iliac crest",
    "psis": "posterior superior iliac spines",
    "sacrum": "S2",
    "kidney": "the kidney area",
    "spine": "the spine",
    "neck": "the neck",
}


def test_every_region_the_method_names_is_in_the_atlas(atlas: Atlas) -> None:
    missing = [base for base in NAMED_BY_METHOD if base not in atlas.bases()]
    assert missing == []


def test_paired_regions_exist_on_both_sides_as_mirror_images(atlas: Atlas) -> None:
    for region in atlas.regions:
        if region.side is Side.MIDLINE:
            assert atlas.mirror_of(region.id) is None
            continue
        mirror = atlas.mirror_of(region.id)
        assert mirror is not None and mirror.side is not region.side
        assert mirror.base == region.base and mirror.tissue is region.tissue
        left, right = atlas.geometry.shape(region.id), atlas.geometry.shape(mirror.id)
        assert left.area == pytest.approx(right.area)
        assert left.centroid.x == pytest.approx(-right.centroid.x)


def test_left_regions_lie_on_the_receivers_left_which_is_negative_x(atlas: Atlas) -> None:
    for region in atlas.regions:
        x = atlas.geometry.centroid(region.id)[0]
        if region.side is Side.LEFT:
            assert x < 0, region.id
        elif region.side is Side.RIGHT:
            assert x > 0, region.id


def test_tissue_kinds(atlas: Atlas) -> None:
    bones = {r.base for r in atlas.regions if r.tissue is Tissue.BONE}
    assert bones == {"occipital-ridge", "spine", "sacrum", "scapular-spine", "iliac-crest", "psis"}
    assert {r.id for r in atlas.regions if r.tissue is Tissue.CAUTION} == {
        "kidney-left",
        "kidney-right",
    }
    assert all(r.muscles for r in atlas.regions if r.tissue is Tissue.MUSCLE)


def test_no_muscle_region_overlaps_bone(atlas: Atlas) -> None:
    geometry = atlas.geometry
    bones = [r.id for r in atlas.regions if r.tissue is Tissue.BONE]
    for region in atlas.regions:
        if region.tissue is Tissue.MUSCLE:
            for bone in bones:
                overlap = geometry.shape(region.id).intersection(geometry.shape(bone)).area
                assert overlap == pytest.approx(0, abs=1e-9), (region.id, bone)


def test_every_line_of_work_stays_inside_its_muscle_and_off_bone(atlas: Atlas) -> None:
    geometry = atlas.geometry
    for region in atlas.regions:
        if region.tissue is not Tissue.MUSCLE:
            continue
        assert region.path is not None, f"{region.id} has no line of work"
        assert geometry.crosses_bone(region.path) == [], region.id
        for x, y in region.path:
            assert region.id in geometry.regions_at(x, y), (region.id, x, y)


def test_landmarks_named_by_the_method_sit_where_the_frame_says(atlas: Atlas) -> None:
    assert atlas.landmark("skull-base").point == (0.0, 0.0)
    assert atlas.landmark("s2").point == (0.0, 1.0)
    assert atlas.landmark("shoulder-tip-left").point == (-1.0, 0.2)
    assert atlas.landmark("shoulder-tip-right").point == (1.0, 0.2)
    for name in (
        "c7",
        "scapular-spine-root-left",
        "scapula-lower-angle-right",
        "lowest-rib-left",
        "iliac-crest-top-right",
        "psis-left",
        "psis-right",
    ):
        assert atlas.landmark(name).name
    psis = atlas.landmark("psis-right").point
    assert "psis-right" in atlas.geometry.regions_at(*psis)
    assert "spine" in atlas.geometry.regions_at(*atlas.landmark("c7").point)


def test_unknown_region_names_the_region_and_lists_the_known_ones(atlas: Atlas) -> None:
    with pytest.raises(UnknownNameError) as caught:
        atlas.region("upper-trap-left")
    assert "upper-trap-left" in str(caught.value)
    assert "upper-trapezius-left" in str(caught.value)


def test_resolve_base_name_and_side(atlas: Atlas) -> None:
    assert atlas.resolve("teres", Side.LEFT).id == "teres-left"
    assert atlas.resolve("spine", Side.LEFT).id == "spine"


def test_a_broken_atlas_file_is_reported_with_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "atlas.toml"
    path.write_text(
        'version = 1\n[[region]]\nid = "x"\nname = "X"\nside = "midline"\ntissue = "gristle"\n'
        'area = "neck"\nmuscles = []\npolygon = [[0,0],[0.1,0],[0,0.1]]\n'
        "landmark = []\n[outline]\nhead_center=[0,0]\nhead_radius=[0.1,0.1]\nbody=[[0,0]]\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFileError) as caught:
        Atlas.from_file(path)
    message = str(caught.value)
    assert str(path) in message and "region[0].tissue" in message and "bone" in message


def test_a_region_with_two_shapes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "atlas.toml"
    path.write_text(
        'version = 1\nlandmark = []\n[[region]]\nid = "x"\nname = "X"\nside = "midline"\n'
        'tissue = "bone"\narea = "neck"\nmuscles = []\npolygon = [[0,0],[0.1,0],[0,0.1]]\n'
        "circle = [0, 0]\nradius_cm = 1\n"
        "[outline]\nhead_center=[0,0]\nhead_radius=[0.1,0.1]\nbody=[[0,0]]\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFileError, match="exactly one shape"):
        Atlas.from_file(path)


def test_regions_landmarks_and_outline_are_what_validation_gives() -> None:
    # The atlas builds them from its validated file without validating again: the same values
    # of the same types (repr shows an enum or a tuple where validation gives one) and fields.
    atlas = default_atlas()
    for model in (*atlas.regions, *atlas.landmarks, atlas.outline):
        again = type(model).model_validate(model.model_dump())
        assert repr(model) == repr(again)
        assert model.model_fields_set == set(type(model).model_fields)
