"""The tool path run in MuJoCo: a compliant back, a motor-driven tool, a 1 kHz controller.

Model (SI units). The back is a height field made from the analytic surface; it is rigid, and
the tissue's compliance is a spring-damper slide joint between the tool and its pad, with the
stiffness of the region under the tool (bone far stiffer than muscle) set every step: contact
softness in MuJoCo does not map to N/m, a joint spring does. Friction cones are elliptic. The
tool is carried by three motor-driven slide joints (a Cartesian arm: each motor's force is the
Cartesian force, no mocap body), gravity compensated. Frame: sim x = back x, sim y = -back y,
sim z = -back z (out of the back, toward the tool), a proper rotation of the back frame.

Controller at 1 kHz, one sample of the path per step: along the normal, force control (the
path's force as feedforward, a PI loop on the measured tissue force, feedback of the force the
tissue model predicts from the tool's deflection and the planned region's stiffness, damping);
across the surface, impedance (a spring-damper to the path's point). Lifted, it is impedance in
all axes.
Needs the optional package `mujoco` (pip install 'backrub[robot]').
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from backrub.robot.regions import DX, DY, X0, Y0
from backrub.robot.surface import BackSurface
from backrub.robot.toolpath import CONTACTS, FloatArray, ToolPath

SIM_RATE_HZ = 1000.0
_EXTENT_X = 0.26  # half width of the height field, metres
_TOP_Y, _BOTTOM_Y = -0.04, 0.72  # back-frame y range, metres
_CELL = 0.0025
_CARRIAGE_KG = 1.0
# Bandwidth of the simulated force sensor (a first-order low-pass, as F/T sensors filter).
_SENSOR_HZ = 100.0
# Controller gains: tangential impedance, normal force PI and damping, lifted impedance.
# A softer tangential spring than a stiff one: on a slope, a stiff spring winds up against
# friction and lets go in slips (stick-slip at the tissue's ~25 Hz), and each slip moves the
# tool up or down the slope, a sudden change of force (1.3 mm RMS off the path is the price).
_K_TANGENT, _D_TANGENT = 1500.0, 80.0
_KP_FORCE, _KI_FORCE, _D_NORMAL = 1.0, 100.0, 150.0
# Model-based force feedback: the force the tissue model predicts from the tool's deflection
# (the arm's position against the surface model) and the stiffness map where the tool is, fed back
# with this gain. It sees no sensor lag, so it catches slips and stiffness changes at once; the
# PI loop on the measured force corrects whatever the model gets wrong. The gain is scheduled by
# the stiffness: times the stiffness it is a position gain, held at most _MODEL_N_M so that the
# loop stays stable over bone (at 40 over the pelvic ridge's 7 kN/m it already oscillates).
_KP_MODEL, _MODEL_N_M = 25.0, 150_000.0
_K_FREE, _D_FREE = 1500.0, 90.0


@dataclass(frozen=True)
class SimulatedRun:
    """What the simulation measured, one row per control step (aligned with the path)."""

    path: ToolPath
    force: FloatArray  # measured tissue force, N
    tool_xy: FloatArray  # (n, 2) back-frame units where the tool actually was
    lift: FloatArray  # metres the tool centre stands off the skin beyond its radius
    region: np.ndarray
    wall_seconds: float
    cpu_seconds: float

    @property
    def realtime_factor(self) -> float:
        return self.path.duration / max(self.wall_seconds, 1e-9)


def _height_field(surface: BackSurface) -> tuple[FloatArray, float, float]:
    xs = np.arange(-_EXTENT_X, _EXTENT_X + _CELL / 2, _CELL)
    sim_ys = np.arange(-_BOTTOM_Y, -_TOP_Y + _CELL / 2, _CELL)
    grid_x, grid_y = np.meshgrid(xs, sim_ys)  # rows run along sim y, as MuJoCo expects
    elevation = -surface.height(grid_x, -grid_y)
    low, high = float(elevation.min()), float(elevation.max())
    return (elevation - low) / (high - low), low, high


def build_model(path: ToolPath) -> tuple[Any, Any]:
    """The MuJoCo model and data for one path's body fit and tool."""
    import mujoco

    surface = BackSurface(path.context.fit)
    heights, low, high = _height_field(surface)
    rows, cols = heights.shape
    figures = path.context.figures
    radius = float(path.context.radii_m[path.contact[0]])
    centre_y = -(_TOP_Y + _BOTTOM_Y) / 2
    mu = figures.tissue.friction
    xml = f"""
<mujoco model="backrub-back">
  <option timestep="{1 / SIM_RATE_HZ}" gravity="0 0 0" cone="elliptic" integrator="implicitfast"/>
  <asset>
    <hfield name="back" nrow="{rows}" ncol="{cols}"
            size="{_EXTENT_X} {(_BOTTOM_Y - _TOP_Y) / 2} {high - low} 0.05"/>
  </asset>
  <worldbody>
    <geom name="back" type="hfield" hfield="back" pos="0 {centre_y} {low}"
          friction="{mu} 0.005 0.0001" condim="3"/>
    <body name="carriage">
      <joint name="x" type="slide" axis="1 0 0"/>
      <joint name="y" type="slide" axis="0 1 0"/>
      <joint name="z" type="slide" axis="0 0 1"/>
      <inertial pos="0 0 0" mass="{_CARRIAGE_KG}" diaginertia="0.001 0.001 0.001"/>
      <body name="pad">
        <joint name="tissue" type="slide" axis="0 0 1" stiffness="{figures.tissue.muscle_n_m}"/>
        <geom name="tip" type="sphere" size="{radius}" mass="{figures.tissue.mass_kg}"
              friction="{mu} 0.005 0.0001" condim="3"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="fx" joint="x"/>
    <motor name="fy" joint="y"/>
    <motor name="fz" joint="z"/>
  </actuator>
</mujoco>
"""
    model = mujoco.MjModel.from_xml_string(xml)
    model.hfield_data[:] = heights.ravel()
    data = mujoco.MjData(model)
    return model, data


def _stiffness_table(path: ToolPath) -> FloatArray:
    """Spring stiffness per region index (and a last entry for 'none'), N/m."""
    tissue = path.context.figures.tissue
    grid = path.context.grid
    table = []
    for base, kind in zip(grid.bases, grid.tissue, strict=True):
        default = {"muscle": tissue.muscle_n_m, "caution": tissue.caution_n_m}.get(
            kind.value, tissue.bone_n_m
        )
        table.append(tissue.regions.get(base, default))
    return np.array([*table, tissue.muscle_n_m])


def _box_mean(field: FloatArray, half_rows: int, half_cols: int) -> FloatArray:
    """The mean over a (2h+1) x (2w+1) box around each cell (edges: the cells that exist)."""
    for axis, half in ((0, half_rows), (1, half_cols)):
        if half <= 0:
            continue
        padded = np.concatenate(
            [
                np.repeat(field.take([0], axis), half, axis),
                field,
                np.repeat(field.take([-1], axis), half, axis),
            ],
            axis=axis,
        )
        total = np.cumsum(padded, axis=axis)
        zero = np.zeros_like(field.take([0], axis))
        total = np.concatenate([zero, total], axis=axis)
        width = 2 * half + 1
        upper = total.take(np.arange(width, width + field.shape[axis]), axis)
        lower = total.take(np.arange(0, field.shape[axis]), axis)
        field = (upper - lower) / width
    return field


def stiffness_fields(path: ToolPath) -> dict[int, list[list[float]]]:
    """Per contact used: the tissue stiffness felt under the tool at each cell of the region grid.

    The tool presses a patch, not a point, so the stiffness it meets is the mean over a square of
    its contact area around the cell: a palm half over the spine meets some bone, not all of it.
    """
    per_cell = _stiffness_table(path)[path.context.grid.cells]
    half_w = path.context.fit.half_width_cm / 100
    length = path.context.fit.skull_to_s2_cm / 100
    fields = {}
    for contact in np.unique(path.contact).tolist():
        side = math.sqrt(path.context.figures.tool(CONTACTS[contact]).area_m2)
        rows = round(side / 2 / (DY * length))
        cols = round(side / 2 / (DX * half_w))
        fields[contact] = _box_mean(per_cell, rows, cols).tolist()
    return fields


def simulate(path: ToolPath) -> SimulatedRun:
    """Run the path (sampled at 1 kHz) through the model; measure force and place each step."""
    import mujoco

    if abs(path.rate_hz - SIM_RATE_HZ) > 1e-9:
        raise ValueError(f"simulate a path sampled at {SIM_RATE_HZ:g} Hz")
    model, data = build_model(path)
    surface = BackSurface(path.context.fit)
    grid = path.context.grid
    fields = stiffness_fields(path)
    mu = path.context.figures.tissue.friction
    tissue = path.context.figures.tissue
    zeta_root_m = 2 * tissue.damping_ratio * math.sqrt(tissue.mass_kg)
    contacts = path.contact.tolist()
    radii = path.context.radii_m[path.contact].tolist()
    rows, cols = path.context.grid.cells.shape
    # References in the sim frame, as plain Python lists: the loop is pure Python floats.
    px, py, pz = (
        path.position[:, 0].tolist(),
        (-path.position[:, 1]).tolist(),
        (-path.position[:, 2]).tolist(),
    )
    nx, ny, nz = (
        path.normal[:, 0].tolist(),
        (-path.normal[:, 1]).tolist(),
        (-path.normal[:, 2]).tolist(),
    )
    target = path.force.tolist()
    touching = path.touching.tolist()
    data.qpos[0], data.qpos[1], data.qpos[2] = px[0], py[0], pz[0]
    mujoco.mj_forward(model, data)
    count = len(path)
    measured = [0.0] * count
    xs, ys, zs = [0.0] * count, [0.0] * count, [0.0] * count
    regions = [0] * count
    half_w, length = surface.half_width_m, surface.length_m
    integral = 0.0
    dt = 1 / SIM_RATE_HZ
    rate = SIM_RATE_HZ
    qpos, qvel, ctrl = data.qpos, data.qvel, data.ctrl
    stiff, damp = model.jnt_stiffness, model.dof_damping
    step = mujoco.mj_step
    region_at = grid.point_lookup()
    start, start_cpu = time.perf_counter(), time.process_time()
    sensed = 0.0
    tool = -1
    sizes, bounds = model.geom_size, model.geom_rbound
    smoothing = 1 / (1 + SIM_RATE_HZ / (2 * math.pi * _SENSOR_HZ))
    for i in range(count):
        x, y, z, q = qpos.tolist()
        vx, vy, vz, vq = qvel.tolist()
        tip_z = z + q
        if contacts[i] != tool:
            # A new contact is a new tool: the sphere takes its radius (and its bounding radius,
            # which the collision broad phase uses).
            tool = contacts[i]
            sizes[1, 0] = bounds[1] = radii[i]
        n0, n1, n2 = nx[i], ny[i], nz[i]
        # Where the tool touches: its centre less one radius along the normal; back frame units.
        frame_x = (x - radii[i] * n0) / half_w
        frame_y = -(y - radii[i] * n1) / length
        region = region_at(frame_x, frame_y)
        row = min(max(int((frame_y - Y0) / DY), 0), rows - 1)
        col = min(max(int((frame_x - X0) / DX), 0), cols - 1)
        k = fields[contacts[i]][row][col]
        c = zeta_root_m * math.sqrt(k)
        stiff[3], damp[3] = k, c
        raw = k * q + c * vq
        # The force sensor: the tissue's spring-damper force, low-passed like an F/T sensor.
        sensed += smoothing * ((raw if raw > 0.0 else 0.0) - sensed)
        force = sensed
        measured[i], xs[i], ys[i], zs[i], regions[i] = force, frame_x, frame_y, tip_z, region
        ex, ey, ez = px[i] - x, py[i] - y, pz[i] - tip_z
        j = i + 1 if i + 1 < count else i
        rvx, rvy, rvz = (px[j] - px[i]) * rate, (py[j] - py[i]) * rate, (pz[j] - pz[i]) * rate
        if touching[i]:
            along = ex * n0 + ey * n1 + ez * n2
            ex, ey, ez = ex - along * n0, ey - along * n1, ez - along * n2
            dvx, dvy, dvz = rvx - vx, rvy - vy, rvz - vz
            dv_n = dvx * n0 + dvy * n1 + dvz * n2
            rv_n = rvx * n0 + rvy * n1 + rvz * n2
            dvx, dvy, dvz = dvx - dv_n * n0, dvy - dv_n * n1, dvz - dv_n * n2
            error = target[i] - force
            integral += _KI_FORCE * error * dt
            # The tissue model's force: the stiffness map where the arm's kinematics put the tool
            # times the deflection (no filter, so no lag).
            predicted = k * q + c * vq
            gain = min(_KP_MODEL, _MODEL_N_M / k)
            push = target[i] + _KP_FORCE * error + integral + gain * (target[i] - predicted)
            # Damping against moving along the normal apart from the surface's own rise and fall.
            normal = -push + _D_NORMAL * dv_n
            # Friction feedforward: sliding on clothing takes mu times the normal force.
            slide_x, slide_y, slide_z = rvx - rv_n * n0, rvy - rv_n * n1, rvz - rv_n * n2
            slide = math.sqrt(slide_x * slide_x + slide_y * slide_y + slide_z * slide_z)
            drag = mu * target[i] / slide if slide > 1e-4 else 0.0
            ctrl[:] = (
                _K_TANGENT * ex + _D_TANGENT * dvx + normal * n0 + drag * slide_x,
                _K_TANGENT * ey + _D_TANGENT * dvy + normal * n1 + drag * slide_y,
                _K_TANGENT * ez + _D_TANGENT * dvz + normal * n2 + drag * slide_z,
            )
        else:
            integral = 0.0
            ctrl[:] = (
                _K_FREE * ex + _D_FREE * (rvx - vx),
                _K_FREE * ey + _D_FREE * (rvy - vy),
                _K_FREE * ez + _D_FREE * (rvz - vz),
            )
        step(model, data)
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    # How far the tool stands off the skin: its lowest point above the surface, straight out.
    touch_x, touch_y = np.array(xs), np.array(ys)
    skin = -surface.height(touch_x * half_w, touch_y * length)
    lowest = np.array(zs) - path.context.radii_m[path.contact] * (-path.normal[:, 2])
    return SimulatedRun(
        path=path,
        force=np.array(measured),
        tool_xy=np.stack([touch_x, touch_y], axis=1),
        lift=np.maximum(lowest - skin, 0.0),
        region=np.array(regions, dtype=np.int16),
        wall_seconds=wall,
        cpu_seconds=cpu,
    )
