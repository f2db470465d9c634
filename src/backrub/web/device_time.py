"""A press's time by the device's clock: how long ago it was made, within sane bounds.

A phone that lost the Wi-Fi keeps the presses made meanwhile and sends them when it is back,
each with `device_time` (when it was pressed) and `device_now` (as it is sent), both by the
device's own clock in milliseconds since the Unix epoch. Their difference is the press's age,
whatever the device's clock is set to; without `device_now` the age is measured against the
server's clock (the device's must then be about right). The hub logs the press that long ago
on the session clock (never before what the engine has applied, never in the future).
"""

from __future__ import annotations

import time

from backrub.errors import BackrubError

# Seconds. A Wi-Fi drop of a minute or two is the case; ten minutes is generous. An age beyond
# it is a wrong clock or a wrong unit (seconds instead of milliseconds), told as such.
MAX_AGE = 600.0
# A press "from the future" by a little: clocks a moment apart, or rounding. Logged now.
FUTURE_SLACK = 5.0


class DeviceTimeRefused(BackrubError):
    """A device time too far off to be a press kept for a moment (a 422 naming the field)."""


def press_age(
    device_time: float | None, device_now: float | None, *, server_now: float | None = None
) -> float:
    """Seconds since the press (0 when no device time was sent); DeviceTimeRefused when the
    values cannot be a press kept while offline."""
    if device_time is None:
        if device_now is not None:
            raise DeviceTimeRefused(
                "device_now is sent with device_time (when the press was made)",
                where="device_time",
            )
        return 0.0
    if device_now is None:
        now, clock = (
            (time.time() if server_now is None else server_now) * 1000,
            "the server's clock",
        )
    else:
        now, clock = device_now, "device_now"
    age = (now - device_time) / 1000
    if age < -FUTURE_SLACK:
        raise DeviceTimeRefused(
            f"device_time is {-age:.0f} s after {clock}: a press cannot come from the "
            f"future (milliseconds since 1970 are expected)",
            where="device_time",
        )
    if age > MAX_AGE:
        raise DeviceTimeRefused(
            f"device_time is {age:.0f} s before {clock}; a kept press is taken up to "
            f"{MAX_AGE:.0f} s late (milliseconds since 1970 are expected)",
            where="device_time",
        )
    return max(0.0, age)
