"""The back as a 3D surface z = h(x, y) over the back frame, in metres, with closed-form normals.

The robot frame is the back frame in metres: origin at the base of the skull on the midline,
x toward the receiver's right shoulder tip, y down the spine toward S2, z = x cross y, which
points INTO the body (the frame is right-handed). The skin is at z = h(x, y): h is smaller where
the back stands out toward the giver (shoulder blades, the upper back's curve) and larger where
it falls away (the spine's groove, the lower back's hollow, the sides of the torso). The outward
normal, toward the giver, is (h_x, h_y, -1) / |(h_x, h_y, -1)|.

The shape is analytic (a sum of a few smooth terms) so that heights and normals are exact and
vectorized, and it is scaled by the body fit: widths with the shoulder width, lengths with the
skull-to-S2 length. Sizes are written for the average back (40 cm, 58 cm).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from backrub.atlas.fit import DEFAULT_SHOULDER_WIDTH_CM, DEFAULT_SKULL_TO_S2_CM, BodyFit

FloatArray = npt.NDArray[np.float64]
Grad = tuple[FloatArray, FloatArray, FloatArray]

_W0 = DEFAULT_SHOULDER_WIDTH_CM / 200  # average half shoulder width, metres
_L0 = DEFAULT_SKULL_TO_S2_CM / 100  # average skull-to-S2 length, metres


def _gauss(u: FloatArray, centre: float, width: float) -> tuple[FloatArray, FloatArray]:
    """exp(-((u - c)/w)^2) and its derivative in u."""
    d = (u - centre) / width
    value = np.exp(-d * d)
    return value, value * (-2 * d / width)


def _window(u: FloatArray, start: float, end: float, soft: float) -> tuple[FloatArray, FloatArray]:
    """A smooth box: about 1 between start and end, 0 outside; and its derivative."""
    rise = 1 / (1 + np.exp(-(u - start) / soft))
    fall = 1 / (1 + np.exp(-(end - u) / soft))
    value = rise * fall
    slope = value * ((1 - rise) / soft - (1 - fall) / soft)
    return value, slope


@dataclass(frozen=True)
class BackSurface:
    """The back of one body fit. All lengths in metres; every method is vectorized."""

    fit: BodyFit = field(default_factory=BodyFit)

    @property
    def half_width_m(self) -> float:
        return self.fit.half_width_cm / 100

    @property
    def length_m(self) -> float:
        return self.fit.skull_to_s2_cm / 100

    def to_metres(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Back-frame units (x across, half shoulder widths; y down, skull-to-S2) to metres."""
        xs = np.asarray(x, dtype=float) * self.half_width_m
        ys = np.asarray(y, dtype=float) * self.length_m
        return xs, ys

    def to_frame(self, x_m: npt.ArrayLike, y_m: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        xs = np.asarray(x_m, dtype=float) / self.half_width_m
        ys = np.asarray(y_m, dtype=float) / self.length_m
        return xs, ys

    def height_and_slope(self, x_m: npt.ArrayLike, y_m: npt.ArrayLike) -> Grad:
        """h(x, y) and its partial derivatives h_x, h_y, in closed form."""
        x = np.asarray(x_m, dtype=float)
        y = np.asarray(y_m, dtype=float)
        sx = self.half_width_m / _W0
        sy = self.length_m / _L0
        # The torso's curve across: the sides fall away forward (a circle's parabola, R 30 cm).
        radius = 0.30 * sx
        h = x * x / (2 * radius)
        hx = x / radius
        hy = np.zeros_like(h)
        # Along the spine: the upper back stands out (kyphosis), the lower back falls in (lordosis).
        kyph, kyph_y = _gauss(y, 0.35 * _L0 * sy, 0.20 * _L0 * sy)
        lord, lord_y = _gauss(y, 0.80 * _L0 * sy, 0.15 * _L0 * sy)
        h = h - 0.030 * sy * kyph + 0.020 * sy * lord
        hy = hy - 0.030 * sy * kyph_y + 0.020 * sy * lord_y
        # The spine's groove between two muscle ridges, from below the neck to the sacrum.
        win, win_y = _window(y, 0.12 * _L0 * sy, 0.95 * _L0 * sy, 0.02 * _L0 * sy)
        groove, groove_x = _gauss(x, 0.0, 0.015 * sx)
        ridge_r, ridge_r_x = _gauss(x, 0.040 * sx, 0.020 * sx)
        ridge_l, ridge_l_x = _gauss(x, -0.040 * sx, 0.020 * sx)
        across = 0.006 * groove - 0.006 * (ridge_r + ridge_l)
        across_x = 0.006 * groove_x - 0.006 * (ridge_r_x + ridge_l_x)
        h = h + across * win
        hx = hx + across_x * win
        hy = hy + across * win_y
        # The shoulder blades stand out toward the giver.
        by, by_y = _gauss(y, 0.38 * _L0 * sy, 0.12 * _L0 * sy)
        right, right_x = _gauss(x, 0.5 * _W0 * sx, 0.22 * _W0 * sx)
        left, left_x = _gauss(x, -0.5 * _W0 * sx, 0.22 * _W0 * sx)
        blades = 0.012 * sy * (right + left)
        h = h - blades * by
        hx = hx - 0.012 * sy * (right_x + left_x) * by
        hy = hy - blades * by_y
        return h, hx, hy

    def height(self, x_m: npt.ArrayLike, y_m: npt.ArrayLike) -> FloatArray:
        return self.height_and_slope(x_m, y_m)[0]

    def normal(self, x_m: npt.ArrayLike, y_m: npt.ArrayLike) -> FloatArray:
        """Unit outward normals (toward the giver), shape (..., 3)."""
        _, hx, hy = self.height_and_slope(x_m, y_m)
        return outward_normal(hx, hy)

    def point(self, x_m: npt.ArrayLike, y_m: npt.ArrayLike) -> FloatArray:
        """Points on the skin, shape (..., 3)."""
        x = np.asarray(x_m, dtype=float)
        y = np.asarray(y_m, dtype=float)
        return np.stack([x, y, self.height(x, y)], axis=-1)


def outward_normal(hx: FloatArray, hy: FloatArray) -> FloatArray:
    norm = np.sqrt(1 + hx * hx + hy * hy)
    return np.stack([hx / norm, hy / norm, -1 / norm], axis=-1)


def pressing_quaternion(normal: FloatArray) -> FloatArray:
    """Orientations (w, x, y, z) turning the tool's z axis onto the inward normal.

    The tool presses along its own z axis, into the body; the rotation is the shortest one from
    the frame's z axis, which is well defined because the inward normal always has z > 0 here.
    """
    dx, dy, dz = -normal[..., 0], -normal[..., 1], -normal[..., 2]
    w = 1 + dz
    scale = 1 / np.sqrt(w * w + dx * dx + dy * dy)
    return np.stack([w * scale, -dy * scale, dx * scale, np.zeros_like(w)], axis=-1)
