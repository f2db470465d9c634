"""The tool path as MCAP with ROS 2 messages, for Foxglove and ROS 2 tools.

Topics (all in frame "back", the back frame in metres; times from the session start):
  /backrub/tool/pose    geometry_msgs/msg/PoseStamped      the tool centre and orientation
  /backrub/tool/wrench  geometry_msgs/msg/WrenchStamped    the force the tool applies to the back
  /backrub/trajectory   trajectory_msgs/msg/MultiDOFJointTrajectory  one per step, joint "tool"
Needs the optional package `mcap` (pip install 'backrub[robot]'); the messages are encoded here
as CDR, and read by mcap-ros2-support's decoder, Foxglove or ROS 2 (ros2 bag).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import BinaryIO

import numpy as np

from backrub.robot.toolpath import ToolPath

FRAME_ID = "back"
_SEPARATOR = "=" * 80
_TIME = "int32 sec\nuint32 nanosec"
_HEADER = "builtin_interfaces/Time stamp\nstring frame_id"
_VECTOR = "float64 x\nfloat64 y\nfloat64 z"
_POINT = "float64 x\nfloat64 y\nfloat64 z"
_QUATERNION = "float64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1"


def _msgdef(main: str, *parts: tuple[str, str]) -> str:
    blocks = [main] + [f"{_SEPARATOR}\nMSG: {name}\n{text}" for name, text in parts]
    return "\n".join(blocks)


POSE_STAMPED = _msgdef(
    "std_msgs/Header header\ngeometry_msgs/Pose pose",
    ("std_msgs/Header", _HEADER),
    ("builtin_interfaces/Time", _TIME),
    ("geometry_msgs/Pose", "geometry_msgs/Point position\ngeometry_msgs/Quaternion orientation"),
    ("geometry_msgs/Point", _POINT),
    ("geometry_msgs/Quaternion", _QUATERNION),
)
WRENCH_STAMPED = _msgdef(
    "std_msgs/Header header\ngeometry_msgs/Wrench wrench",
    ("std_msgs/Header", _HEADER),
    ("builtin_interfaces/Time", _TIME),
    ("geometry_msgs/Wrench", "geometry_msgs/Vector3 force\ngeometry_msgs/Vector3 torque"),
    ("geometry_msgs/Vector3", _VECTOR),
)
MULTI_DOF_TRAJECTORY = _msgdef(
    "std_msgs/Header header\nstring[] joint_names\n"
    "trajectory_msgs/MultiDOFJointTrajectoryPoint[] points",
    ("std_msgs/Header", _HEADER),
    ("builtin_interfaces/Time", _TIME),
    (
        "trajectory_msgs/MultiDOFJointTrajectoryPoint",
        "geometry_msgs/Transform[] transforms\ngeometry_msgs/Twist[] velocities\n"
        "geometry_msgs/Twist[] accelerations\nbuiltin_interfaces/Duration time_from_start",
    ),
    (
        "geometry_msgs/Transform",
        "geometry_msgs/Vector3 translation\ngeometry_msgs/Quaternion rotation",
    ),
    ("geometry_msgs/Vector3", _VECTOR),
    ("geometry_msgs/Quaternion", _QUATERNION),
    ("geometry_msgs/Twist", "geometry_msgs/Vector3 linear\ngeometry_msgs/Vector3 angular"),
    ("builtin_interfaces/Duration", _TIME),
)


class _Cdr:
    """A little-endian CDR (XCDR1) encoder: the few types these messages use.

    Encoding by hand is many times faster than a generic encoder of message dictionaries, and
    the tests decode every message back with mcap-ros2-support's decoder.
    """

    def __init__(self) -> None:
        self.data = bytearray(b"\x00\x01\x00\x00")  # CDR little endian

    def _align(self, size: int) -> None:
        self.data.extend(b"\x00" * (-(len(self.data) - 4) % size))

    def u32(self, value: int) -> None:
        self._align(4)
        self.data.extend(struct.pack("<I", value))

    def time(self, seconds: float) -> None:
        nanoseconds = round(seconds * 1e9)
        self._align(4)
        self.data.extend(struct.pack("<iI", *divmod(nanoseconds, 1_000_000_000)))

    def text(self, value: str) -> None:
        encoded = value.encode() + b"\x00"
        self.u32(len(encoded))
        self.data.extend(encoded)

    def floats(self, values: Sequence[float]) -> None:
        self._align(8)
        self.data.extend(struct.pack(f"<{len(values)}d", *values))

    def header(self, seconds: float) -> None:
        self.time(seconds)
        self.text(FRAME_ID)


def _xyzw(wxyz: Sequence[float]) -> list[float]:
    return [wxyz[1], wxyz[2], wxyz[3], wxyz[0]]


def write_mcap(
    path: ToolPath, stream: BinaryIO, *, rate_hz: float = 100.0, metadata: dict[str, str]
) -> int:
    """Poses and wrenches every 1/rate_hz s, one trajectory per step; returns messages written."""
    from mcap.well_known import MessageEncoding, Profile, SchemaEncoding
    from mcap.writer import Writer

    every = max(1, round(path.rate_hz / rate_hz))
    chosen = np.arange(0, len(path), every)
    writer = Writer(stream)
    writer.start(profile=Profile.ROS2, library="backrub")
    channels = {}
    for topic, name, text in (
        ("/backrub/tool/pose", "geometry_msgs/msg/PoseStamped", POSE_STAMPED),
        ("/backrub/tool/wrench", "geometry_msgs/msg/WrenchStamped", WRENCH_STAMPED),
        (
            "/backrub/trajectory",
            "trajectory_msgs/msg/MultiDOFJointTrajectory",
            MULTI_DOF_TRAJECTORY,
        ),
    ):
        schema = writer.register_schema(name, SchemaEncoding.ROS2, text.encode())
        channels[topic] = writer.register_channel(topic, MessageEncoding.CDR, schema)
    writer.add_metadata("backrub", metadata)
    # The force the tool applies to the back points along the inward normal.
    applied = (-path.normal * path.force[:, None])[chosen].tolist()
    times = path.t[chosen].tolist()
    positions = path.position[chosen].tolist()
    rotations = path.quaternion[chosen].tolist()

    def add(topic: str, cdr: _Cdr, seconds: float, sequence: int = 0) -> None:
        stamp = round(seconds * 1e9)
        writer.add_message(channels[topic], stamp, bytes(cdr.data), stamp, sequence)

    for sequence, seconds in enumerate(times):
        pose = _Cdr()
        pose.header(seconds)
        pose.floats(positions[sequence] + _xyzw(rotations[sequence]))
        add("/backrub/tool/pose", pose, seconds, sequence)
        wrench = _Cdr()
        wrench.header(seconds)
        wrench.floats(applied[sequence] + [0.0, 0.0, 0.0])
        add("/backrub/tool/wrench", wrench, seconds, sequence)
    written = 2 * len(times)
    steps = path.step[chosen]
    velocities = np.gradient(path.position[chosen], axis=0) * (path.rate_hz / every)
    for number in np.unique(steps).tolist():
        indexes = np.flatnonzero(steps == number).tolist()
        start = times[indexes[0]]
        trajectory = _Cdr()
        trajectory.header(start)
        trajectory.u32(1)
        trajectory.text("tool")
        trajectory.u32(len(indexes))
        for i in indexes:
            trajectory.u32(1)  # one transform: the tool
            trajectory.floats(positions[i] + _xyzw(rotations[i]))
            trajectory.u32(1)  # its velocity (linear; no angular)
            trajectory.floats([*velocities[i].tolist(), 0.0, 0.0, 0.0])
            trajectory.u32(0)  # no accelerations
            trajectory.time(times[i] - start)
        add("/backrub/trajectory", trajectory, start)
        written += 1
    writer.finish()  # type: ignore[no-untyped-call]
    return written
