"""The 3D back: closed-form normals agree with the surface, and the shape has its landmarks."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from backrub.atlas import BodyFit
from backrub.robot.figures import robot_figures
from backrub.robot.surface import BackSurface, pressing_quaternion

fits = st.builds(
    BodyFit,
    shoulder_width_cm=st.floats(30, 60),
    skull_to_s2_cm=st.floats(45, 80),
)
frame_points = st.tuples(st.floats(-1.0, 1.0), st.floats(-0.05, 1.15))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(fits, frame_points)
def test_normals_match_finite_differences_and_are_unit(
    fit: BodyFit, point: tuple[float, float]
) -> None:
    surface = BackSurface(fit)
    x, y = surface.to_metres(*point)
    step = 1e-6
    _, hx, hy = surface.height_and_slope(x, y)
    fd_x = (surface.height(x + step, y) - surface.height(x - step, y)) / (2 * step)
    fd_y = (surface.height(x, y + step) - surface.height(x, y - step)) / (2 * step)
    assert np.isclose(hx, fd_x, rtol=1e-5, atol=1e-7)
    assert np.isclose(hy, fd_y, rtol=1e-5, atol=1e-7)
    normal = surface.normal(x, y)
    assert np.isclose(np.linalg.norm(normal), 1.0)
    # Perpendicular to both tangents (1, 0, h_x) and (0, 1, h_y), and toward the giver (-z).
    assert np.isclose(normal @ np.array([1.0, 0.0, fd_x]), 0.0, atol=1e-6)
    assert np.isclose(normal @ np.array([0.0, 1.0, fd_y]), 0.0, atol=1e-6)
    assert normal[2] < 0


@settings(max_examples=50, deadline=None, derandomize=True)
@given(frame_points)
def test_the_tool_presses_along_the_inward_normal(point: tuple[float, float]) -> None:
    surface = BackSurface()
    normal = surface.normal(*surface.to_metres(*point))
    w, x, y, z = pressing_quaternion(normal)
    # Rotate the tool's z axis (0, 0, 1) by the quaternion: the third column of its matrix.
    axis = np.array([2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)])
    assert np.allclose(axis, -normal, atol=1e-9)


def test_the_spine_is_a_groove_between_two_ridges_and_the_blades_stand_out() -> None:
    surface = BackSurface()
    mid_back = 0.5 * surface.length_m
    spine, ridge = surface.height([0.0, 0.04], [mid_back, mid_back])
    assert spine > ridge + 0.005  # z points into the body: the groove lies deeper
    blade, beside = surface.height(
        [0.5 * surface.half_width_m, 0.5 * surface.half_width_m],
        [0.38 * surface.length_m, 0.7 * surface.length_m],
    )
    assert blade < beside  # the shoulder blade is nearer the giver than the waist below it
    # The upper back's curve (kyphosis) stands out; the lower back (lordosis) falls away.
    upper, lower = surface.height([0.1, 0.1], [0.35 * surface.length_m, 0.8 * surface.length_m])
    assert upper < lower - 0.03


def test_the_surface_scales_with_the_body_fit() -> None:
    small = BackSurface(BodyFit(shoulder_width_cm=34, skull_to_s2_cm=50))
    large = BackSurface(BodyFit(shoulder_width_cm=50, skull_to_s2_cm=70))
    # The same frame point (a shoulder-blade centre) lands at the fit's own distance in metres.
    assert np.allclose(small.to_metres(0.5, 0.38), (0.085, 0.19))
    assert np.allclose(large.to_metres(0.5, 0.38), (0.125, 0.266))
    # The upper back's most outward point, down a line beside the spine, is at the same place
    # on the back frame for both, so the shape follows the fit rather than staying in metres.
    apexes = []
    for surface in (small, large):
        frame_y = np.linspace(0.1, 0.7, 601)
        x, y = surface.to_metres(np.full_like(frame_y, 0.3), frame_y)
        apexes.append(frame_y[np.argmin(surface.height(x, y))])
    assert abs(apexes[0] - apexes[1]) < 0.01
    assert 0.3 < apexes[0] < 0.45


def test_every_contact_has_a_tool_and_the_figures_keep_their_sources() -> None:
    figures = robot_figures()
    assert figures.tools["fingertips"].area_cm2 == 2.0
    assert figures.tools["palms"].area_cm2 == 60.0
    assert figures.caps.back_ceiling_n == 105.0 and figures.caps.neck_ceiling_n == 75.0
    assert figures.level_force("palms", 5) == 65.0
    assert "ISO/TS 15066" in figures.sources["iso-15066-a2"]
