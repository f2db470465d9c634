"""The stored spatial answers (atlas/back.derived.json) are the geometry's answers, and stay so.

A plan reads centroids and crossed regions from the derived file instead of loading shapely; if
the atlas or the geometry code changes and the file is not written again, these tests fail.
"""

from __future__ import annotations

import json
from importlib import resources

import pytest

from backrub.atlas import Atlas, Tissue, default_atlas, derived
from backrub.atlas.derived import SpatialAnswers

REWRITE = 'python -c "from backrub.atlas import derived; derived.write()"'


def _stored() -> dict[str, object]:
    text = resources.files("backrub.atlas").joinpath(derived.DERIVED_FILE).read_text("utf-8")
    data: dict[str, object] = json.loads(text)
    return data


def _atlas_text() -> str:
    return resources.files("backrub.atlas").joinpath(derived.ATLAS_FILE).read_text("utf-8")


def test_the_stored_answers_are_what_the_geometry_computes_now() -> None:
    stored = _stored()
    assert stored["atlas"] == derived.checksum(_atlas_text()), f"atlas changed: run {REWRITE}"
    computed = derived.compute(default_atlas().geometry)
    assert {key: value for key, value in stored.items() if key != "atlas"} == computed, (
        f"the derived answers are stale: run {REWRITE}"
    )


def test_the_shipped_atlas_answers_from_the_file_and_agrees_with_shapely() -> None:
    atlas = default_atlas()
    assert derived.load(_atlas_text()) is not None
    answers, geometry = atlas.answers, atlas.geometry
    for region in atlas.regions:
        assert answers.centroid(region.id) == geometry.centroid(region.id)
        path = answers.stroke_path(region.id)
        assert path == geometry.stroke_path(region.id)
        for tissue in Tissue:
            assert answers.crossed(path, tissue=tissue) == geometry.crossed(path, tissue=tissue)


def test_an_edited_atlas_is_not_answered_from_the_old_file() -> None:
    assert derived.load(_atlas_text() + "\n# edited\n") is None


def test_a_path_the_file_does_not_know_goes_to_the_geometry(atlas: Atlas) -> None:
    across_the_spine = ((-0.3, 0.4), (0.3, 0.4))
    assert atlas.answers.crossed(across_the_spine, tissue=Tissue.BONE) == ["spine"]


@pytest.mark.parametrize("stored", [None, {"regions": {}}])
def test_without_matching_answers_every_question_goes_to_the_geometry(
    atlas: Atlas, stored: dict[str, object] | None
) -> None:
    answers = SpatialAnswers(atlas.regions, stored, lambda: atlas.geometry)
    region = "upper-trapezius-left"
    assert answers.centroid(region) == atlas.geometry.centroid(region)
    assert answers.stroke_path(region) == atlas.geometry.stroke_path(region)
