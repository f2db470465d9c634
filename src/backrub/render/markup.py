"""A tiny SVG writer: elements as strings, with every attribute and text escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

AttributeValue = str | int | float | None


def number(value: float) -> str:
    """A coordinate with two decimals at most: enough for pixels, short enough to read."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def polyline_data(points: Sequence[tuple[float, float]], *, closed: bool = False) -> str:
    """SVG path data through pixel points, closed into an outline if asked."""
    (start_x, start_y), *rest = points
    commands = [f"M{number(start_x)} {number(start_y)}"]
    commands += [f"L{number(x)} {number(y)}" for x, y in rest]
    return " ".join([*commands, "Z"] if closed else commands)


def attributes(values: Mapping[str, AttributeValue]) -> str:
    parts = []
    for name, value in values.items():
        if value is None:
            continue
        text = number(value) if isinstance(value, float) else str(value)
        parts.append(f" {name}={quoteattr(text)}")
    return "".join(parts)


def element(
    name: str,
    values: Mapping[str, AttributeValue] | None = None,
    *children: str,
    text: str | None = None,
) -> str:
    """One element; `children` are already-written markup, `text` is plain text to escape."""
    opening = f"<{name}{attributes(values or {})}"
    body = "".join(children) + (escape(text) if text is not None else "")
    if not body:
        return opening + "/>"
    return f"{opening}>{body}</{name}>"


def title(text: str) -> str:
    """A `<title>` child: browsers show it on hover and screen readers read it."""
    return element("title", text=text)


def group(values: Mapping[str, AttributeValue], children: list[str]) -> str:
    return element("g", values, "\n" + "\n".join(children) + "\n") if children else ""
