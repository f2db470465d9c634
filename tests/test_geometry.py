"""Spatial questions: regions at a point, paths crossing bone, clearance to bone and kidneys."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backrub.atlas import Atlas, BodyFit, Tissue


def test_regions_at_a_point(atlas: Atlas) -> None:
    geometry = atlas.geometry
    assert geometry.regions_at(0.0, 0.5) == ["spine"]
    assert geometry.regions_at(0.5, 0.18) == ["upper-trapezius-right"]
    assert geometry.regions_at(-0.5, 0.18) == ["upper-trapezius-left"]
    assert "kidney-left" in geometry.regions_at(-0.2, 0.7)
    assert geometry.regions_at(1.25, 1.25) == []


def test_regions_at_many_points_matches_one_by_one(atlas: Atlas) -> None:
    geometry = atlas.geometry
    xs = np.linspace(-1.1, 1.1, 23)
    ys = np.linspace(0.0, 1.1, 23)
    many = geometry.regions_at_many(xs, ys)
    assert many == [geometry.regions_at(x, y) for x, y in zip(xs, ys, strict=True)]


def test_a_path_across_the_spine_crosses_bone(atlas: Atlas) -> None:
    assert atlas.geometry.crosses_bone([(-0.3, 0.4), (0.3, 0.4)]) == ["spine"]


def test_a_path_beside_the_spine_does_not(atlas: Atlas) -> None:
    assert atlas.geometry.crosses_bone([(0.095, 0.22), (0.095, 0.59)]) == []


def test_a_path_over_the_shoulder_blade_ridge_is_caught(atlas: Atlas) -> None:
    crossed = atlas.geometry.crosses_bone([(0.6, 0.18), (0.6, 0.34)])
    assert crossed == ["scapular-spine-right"]


def test_clearance_is_zero_on_bone_and_grows_away_from_it(atlas: Atlas) -> None:
    clearance = atlas.geometry.clearance_cm([0.0, 0.06, 0.13], [0.4, 0.4, 0.4])
    assert clearance[0] == 0
    assert 0 < clearance[1] < clearance[2]
    # The spine is 0.035 frame units wide each side: 0.7 cm on an average back.
    assert clearance[1] == pytest.approx((0.06 - 0.035) * 20)


def test_clearance_is_measured_in_centimetres_of_this_receiver(atlas: Atlas) -> None:
    average = atlas.geometry.clearance_cm(0.2, 0.4)[0]
    broad = atlas.geometry.clearance_cm(0.2, 0.4, BodyFit(shoulder_width_cm=50))[0]
    assert broad == pytest.approx(average * 50 / 40)


def test_clearance_counts_the_kidney_zone(atlas: Atlas) -> None:
    inside_kidney = atlas.geometry.clearance_cm(0.2, 0.7)
    assert inside_kidney[0] == 0


@given(st.floats(-1.2, 1.2), st.floats(-0.1, 1.15))
def test_clearance_is_zero_exactly_where_a_bone_or_kidney_is(x: float, y: float) -> None:
    from backrub.atlas import default_atlas

    atlas = default_atlas()
    hazard = any(
        atlas.region(r).tissue in (Tissue.BONE, Tissue.CAUTION)
        for r in atlas.geometry.regions_at(x, y)
    )
    clearance = float(atlas.geometry.clearance_cm(x, y)[0])
    assert (clearance == 0) == hazard


def test_fit_converts_frame_to_centimetres_and_back() -> None:
    fit = BodyFit(shoulder_width_cm=44, skull_to_s2_cm=60)
    assert fit.to_cm((1.0, 1.0)) == (22.0, 60.0)
    assert fit.from_cm(fit.to_cm((-0.3, 0.45))) == pytest.approx((-0.3, 0.45))
    assert fit.distance_cm((-1.0, 0.2), (1.0, 0.2)) == pytest.approx(44)


def test_default_fit_is_an_average_adult() -> None:
    fit = BodyFit()
    assert fit.distance_cm((0, 0), (0, 1)) == pytest.approx(58)


def test_impossible_measurements_are_refused() -> None:
    with pytest.raises(ValueError):
        BodyFit(shoulder_width_cm=5)
