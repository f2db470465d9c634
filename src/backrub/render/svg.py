"""The back map as a standalone SVG: silhouette, regions, labels, and optionally a plan or heat."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from backrub.atlas import Area, Atlas, Region, Tissue
from backrub.atlas.geometry import region_shape
from backrub.method.step import Step
from backrub.render import palette
from backrub.render.frame import FrameMapping, atlas_bounds, silhouette
from backrub.render.labels import Column, PlacedLabel, place_labels, short_label, text_width
from backrub.render.markup import AttributeValue, element, group
from backrub.render.markup import title as title_element
from backrub.render.steps import (
    MARKER_FONT,
    MARKER_RADIUS,
    circle_arrow_data,
    coil_data,
    hold_mark,
    step_markers,
    step_strokes,
)

_MARGIN = 14.0
_TITLE_SIZE = 20.0
_CAPTION_SIZE = 12.0
_LABEL_SIZE = 12.0
_LABEL_LINE = 15.0
_LABEL_GAP = 8.0
_LEGEND_SIZE = 12.0
_LEGEND_ROW = 22.0
_SIDE_WORD_SIZE = 12.0
_LINE_SPACING = 1.25  # a wrapped title or caption: baselines this many font sizes apart
_MIN_BODY_WIDTH = 160.0
_CAPTION = "Seen from behind, as the giver sees it."

# Bone and caution are drawn after muscles: they are the zones the hands must see and avoid.
_TISSUE_ORDER = (Tissue.MUSCLE, Tissue.CAUTION, Tissue.BONE)
# Landmarks are open rings so they never read as the solid dots that end label leaders.
_LANDMARK = "#5b3a29"


def draw_atlas(atlas: Atlas, *, title: str | None = None) -> str:
    """The labelled map of every region."""
    return render_back_map(atlas, title=title)


def draw_plan(atlas: Atlas, steps: Sequence[Step], *, title: str | None = None) -> str:
    """The map with the plan's steps numbered in order and an arrow for each stroke."""
    return render_back_map(atlas, steps=steps, title=title)


def render_back_map(
    atlas: Atlas,
    *,
    steps: Sequence[Step] = (),
    highlight: Iterable[str] = (),
    heat: Mapping[str, float] | None = None,
    labels: bool = True,
    title: str | None = None,
    width_px: int = 720,
    markers: bool = True,
    waiting_knots: Iterable[str] = (),
    text_scale: float = 1.0,
) -> str:
    """The back map as SVG text.

    `highlight` names regions to draw lit (the live page's current region). `heat` maps region
    ids to 0..1 and colours them on a ramp; muscles it leaves out count as 0, so a coverage
    summary shows unworked muscles too. `markers=False` leaves out the numbered step discs (a
    live page shows one step at a time). `waiting_knots` marks regions where a knot was noted
    and waits to be worked (a dashed ring). `text_scale` enlarges every word and step number
    (and the step discs) for a map shown smaller than `width_px`: a page that shows a 480 wide
    map 320 px wide passes 1.5 to keep 12 px words. Unknown region ids raise `UnknownNameError`.
    """
    # A bare string is one region id, not an iterable of one-letter ids.
    wanted = [highlight] if isinstance(highlight, str) else list(highlight)
    lit = {atlas.region(region_id).id for region_id in wanted}
    heat_values = _heat_values(atlas, heat)
    for step in steps:
        for region_id in step.regions:
            atlas.region(region_id)
    layout = _Layout.for_atlas(
        atlas, width_px=width_px, labels=labels, title=title, text_scale=text_scale
    )
    frame = layout.frame
    legend, legend_height = _legend(layout, steps=bool(steps), heat=heat is not None)
    height = layout.body_bottom + _MARGIN + legend_height + _MARGIN

    parts = [palette.defs()]
    parts.append(
        element(
            "rect", {"class": "background", "width": width_px, "height": height, "fill": "#ffffff"}
        )
    )
    parts += _header(layout, title)
    parts.append(_body(atlas, frame))
    parts.append(_regions(atlas, frame, lit=lit, heat=heat_values))
    parts.append(_landmarks(atlas, frame))
    if labels:
        parts.append(_labels(atlas, layout))
    parts.append(
        group(
            {"class": "highlight-overlay", "pointer-events": "none"},
            [ring for region in atlas.regions if region.id in lit for ring in _glow(region, frame)],
        )
    )
    parts.append(group({"class": "plan-strokes"}, step_strokes(atlas, steps, frame)))
    parts.append(_waiting_knots(atlas, frame, waiting_knots))
    if markers:
        discs = step_markers(atlas, steps, frame, scale=layout.scale)
        parts.append(group({"class": "plan-markers"}, discs))
    parts += _side_markers(layout)
    parts.append(legend)

    root: dict[str, AttributeValue] = {
        "xmlns": "http://www.w3.org/2000/svg",
        "version": "1.1",
        "width": width_px,
        "height": round(height),
        "viewBox": f"0 0 {width_px} {round(height)}",
        "font-family": "sans-serif",
        "role": "img",
    }
    doc_title = title_element(title or "Back map")
    body = "\n".join(part for part in parts if part)
    return element("svg", root, "\n" + doc_title + "\n" + body + "\n") + "\n"


def map_frame(
    atlas: Atlas,
    *,
    width_px: int = 720,
    labels: bool = True,
    title: str | None = None,
    text_scale: float = 1.0,
) -> FrameMapping:
    """Where render_back_map with the same arguments puts frame points, to draw over it."""
    layout = _Layout.for_atlas(
        atlas, width_px=width_px, labels=labels, title=title, text_scale=text_scale
    )
    return layout.frame


def _body(atlas: Atlas, frame: FrameMapping) -> str:
    return element(
        "path",
        {
            "class": "body",
            "d": frame.shape_data(silhouette(atlas)),
            "fill": palette.SKIN,
            "stroke": palette.SKIN_EDGE,
            "stroke-width": 1.5,
            "stroke-linejoin": "round",
        },
        title_element("Body outline, seen from behind"),
    )


def _regions(atlas: Atlas, frame: FrameMapping, *, lit: set[str], heat: Mapping[str, float]) -> str:
    return group(
        {"class": "regions"},
        [
            _region(region, frame, lit=region.id in lit, heat=heat.get(region.id))
            for tissue in _TISSUE_ORDER
            for region in atlas.regions
            if region.tissue is tissue
        ],
    )


def _landmarks(atlas: Atlas, frame: FrameMapping) -> str:
    dots = []
    for landmark in atlas.landmarks:
        x, y = frame.px(landmark.point)
        dots.append(
            element(
                "circle",
                {
                    "id": f"landmark-{landmark.id}",
                    "class": "landmark",
                    "cx": x,
                    "cy": y,
                    "r": 3.2,
                    "fill": "#ffffff",
                    "stroke": _LANDMARK,
                    "stroke-width": 1.5,
                },
                title_element(landmark.name),
            )
        )
    return group({"class": "landmarks"}, dots)


def _heat_values(atlas: Atlas, heat: Mapping[str, float] | None) -> dict[str, float]:
    if heat is None:
        return {}
    values = {region.id: 0.0 for region in atlas.regions if region.tissue is Tissue.MUSCLE}
    for region_id, value in heat.items():
        palette.heat_colour(value)  # rejects NaN before anything is drawn
        values[atlas.region(region_id).id] = min(1.0, max(0.0, float(value)))
    return values


@dataclass(frozen=True)
class _Layout:
    width: float
    frame: FrameMapping
    body_left: float
    body_right: float
    body_top: float
    body_bottom: float
    header_top: float
    scale: float
    title_lines: tuple[str, ...]
    caption_lines: tuple[str, ...]

    @classmethod
    def for_atlas(
        cls,
        atlas: Atlas,
        *,
        width_px: int,
        labels: bool,
        title: str | None,
        text_scale: float = 1.0,
    ) -> _Layout:
        scale = text_scale
        column = 0.0
        if labels:
            size = _LABEL_SIZE * scale
            column = max(text_width(short_label(base), size) for base in atlas.bases())
            column += _LABEL_GAP + 6
        body_width = width_px - 2 * (_MARGIN + column)
        if body_width < _MIN_BODY_WIDTH:
            needed = round(_MIN_BODY_WIDTH + 2 * (_MARGIN + column))
            raise ValueError(
                f"width_px={width_px} is too narrow for this map; use {needed} or more"
            )
        room = width_px - 2 * _MARGIN
        title_lines = _wrap(title, _TITLE_SIZE * scale, room) if title else ()
        caption_lines = _wrap(_CAPTION, _CAPTION_SIZE * scale, room)
        top = (
            _MARGIN
            + (_lines_height(len(title_lines), _TITLE_SIZE * scale) + 10 if title else 0)
            + _lines_height(len(caption_lines), _CAPTION_SIZE * scale)
            + 14 * scale
        )
        bounds = atlas_bounds(atlas)
        frame = FrameMapping.fitted(
            bounds, left_px=_MARGIN + column, top_px=top, width_px=body_width
        )
        _, bottom = frame.px((bounds.right, bounds.bottom))
        return cls(
            width=width_px,
            frame=frame,
            body_left=_MARGIN + column,
            body_right=width_px - _MARGIN - column,
            body_top=top,
            body_bottom=bottom,
            header_top=_MARGIN,
            scale=scale,
            title_lines=title_lines,
            caption_lines=caption_lines,
        )


def _lines_height(count: int, font_size: float) -> float:
    """From the top of a block of lines to its last baseline: a font size, then 1.25 more a line."""
    return font_size + (count - 1) * font_size * _LINE_SPACING if count else 0.0


def _wrap(text: str, font_size: float, width: float) -> tuple[str, ...]:
    """Words in lines no wider than `width` (by the rough glyph width), at least one word each."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", font_size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return tuple(lines)


def _header(layout: _Layout, title: str | None) -> list[str]:
    parts = []
    y = layout.header_top
    title_size = _TITLE_SIZE * layout.scale
    caption_size = _CAPTION_SIZE * layout.scale
    for number, line in enumerate(layout.title_lines):
        y += title_size * (_LINE_SPACING if number else 1.0)
        parts.append(
            element(
                "text",
                {
                    "class": "title",
                    "x": layout.width / 2,
                    "y": y,
                    "text-anchor": "middle",
                    "font-size": title_size,
                    "font-weight": "bold",
                    "fill": palette.INK,
                },
                text=line,
            )
        )
    if title:
        y += 10
    for number, line in enumerate(layout.caption_lines):
        y += caption_size * (_LINE_SPACING if number else 1.0)
        parts.append(
            element(
                "text",
                {
                    "class": "caption",
                    "x": layout.width / 2,
                    "y": y,
                    "text-anchor": "middle",
                    "font-size": caption_size,
                    "fill": "#555555",
                },
                text=line,
            )
        )
    return parts


def _region(region: Region, frame: FrameMapping, *, lit: bool, heat: float | None) -> str:
    classes = [
        "region",
        f"tissue-{region.tissue.value}",
        f"area-{region.area.value}",
        f"side-{region.side.value}",
    ]
    style: dict[str, AttributeValue] = {"stroke-width": 1.0, "stroke-linejoin": "round"}
    if heat is not None:
        classes.append("heat")
        style.update(fill=palette.heat_colour(heat), stroke="#4a5a6a")
    elif region.tissue is Tissue.BONE:
        style.update(fill=f"url(#{palette.BONE_PATTERN})", stroke=palette.BONE_EDGE)
    elif region.tissue is Tissue.CAUTION:
        style.update(
            {
                "fill": f"url(#{palette.CAUTION_PATTERN})",
                "stroke": palette.CAUTION_EDGE,
                "stroke-width": 1.4,
                "stroke-dasharray": "5 3",
            }
        )
    else:
        style.update(
            {
                "fill": palette.MUSCLE_FILL[region.area],
                "stroke": palette.MUSCLE_EDGE[region.area],
                "fill-opacity": 0.9,
            }
        )
    if lit:
        # The look of a lit region is its class and the ring over it (_glow), not its own
        # stroke: the live page lights and unlights regions itself, by class, without a redraw.
        classes.append("highlight")
    attributes: dict[str, AttributeValue] = {
        "id": f"region-{region.id}",
        "class": " ".join(classes),
        "data-region": region.id,
        "data-heat": None if heat is None else f"{heat:.2f}",
    }
    shape = element(
        "path", {"d": frame.shape_data(region_shape(region)), "fill-rule": "evenodd", **style}
    )
    return element("g", attributes, title_element(region.name), shape)


def _waiting_knots(atlas: Atlas, frame: FrameMapping, regions: Iterable[str]) -> str:
    marks = []
    for region_id in dict.fromkeys(regions):
        region = atlas.region(region_id)
        x, y = frame.px(atlas.geometry.centroid(region.id))
        marks.append(
            element(
                "circle",
                {
                    "class": "waiting-knot",
                    "data-region": region.id,
                    "cx": x,
                    "cy": y,
                    "r": 9,
                    "fill": "none",
                    "stroke": "#b35900",
                    "stroke-width": 2.5,
                    "stroke-dasharray": "4 3",
                },
                title_element(f"Knot noted on the {region.name}: worked after the warm-up"),
            )
        )
    return group({"class": "waiting-knots", "pointer-events": "none"}, marks) if marks else ""


def _glow(region: Region, frame: FrameMapping) -> list[str]:
    data = frame.shape_data(region_shape(region))
    return [
        element(
            "path",
            {
                "class": "highlight-glow",
                "d": data,
                "fill": "none",
                "stroke": palette.HIGHLIGHT,
                "stroke-width": 7,
                "stroke-opacity": 0.9,
                "filter": f"url(#{palette.GLOW})",
            },
        ),
        element(
            "path",
            {
                "class": "highlight-ring",
                "d": data,
                "fill": "none",
                "stroke": "#b35900",
                "stroke-width": 2.2,
            },
        ),
    ]


def _labels(atlas: Atlas, layout: _Layout) -> str:
    frame = layout.frame
    anchors = {region.id: frame.px(atlas.geometry.centroid(region.id)) for region in atlas.regions}
    placed = place_labels(
        atlas,
        anchor_px=anchors,
        top=layout.body_top + 4,
        bottom=layout.body_bottom,
        line_height=_LABEL_LINE * layout.scale,
    )
    return group({"class": "labels"}, [_label(label, layout) for label in placed])


def _label(label: PlacedLabel, layout: _Layout) -> str:
    if label.column is Column.LEFT:
        text_x, leader_x, anchor = layout.body_left - _LABEL_GAP, layout.body_left - 4, "end"
    else:
        text_x, leader_x, anchor = layout.body_right + _LABEL_GAP, layout.body_right + 4, "start"
    anchor_x, anchor_y = label.anchor
    leader = f"M{leader_x:.1f} {label.y:.1f} L{anchor_x:.1f} {anchor_y:.1f}"
    return group(
        {"class": "label", "data-label-for": label.base},
        [
            title_element(label.full_name),
            element(
                "path",
                {
                    "class": "leader",
                    "d": leader,
                    "fill": "none",
                    "stroke": palette.LEADER,
                    "stroke-width": 0.8,
                    "stroke-opacity": 0.85,
                },
            ),
            element("circle", {"cx": anchor_x, "cy": anchor_y, "r": 1.8, "fill": palette.LEADER}),
            element(
                "text",
                {
                    "x": text_x,
                    "y": label.y + _LABEL_SIZE * layout.scale * 0.35,
                    "text-anchor": anchor,
                    "font-size": _LABEL_SIZE * layout.scale,
                    "fill": palette.INK,
                },
                text=label.text,
            ),
        ],
    )


def _side_markers(layout: _Layout) -> list[str]:
    # Set in from the edge the word is nearer, so a word enlarged for a phone stays on the map.
    parts = []
    letter_size, word_size = 28 * layout.scale, _SIDE_WORD_SIZE * layout.scale
    for letter, word, frame_x in (("L", "receiver's left", -0.85), ("R", "receiver's right", 0.85)):
        x, y = layout.frame.px((frame_x, -0.2))
        half = text_width(word, word_size) / 2
        x = min(max(x, _MARGIN / 2 + half), layout.width - _MARGIN / 2 - half)
        parts.append(
            group(
                {"class": "side-marker", "data-side": word.split()[-1]},
                [
                    element(
                        "text",
                        {
                            "x": x,
                            "y": y,
                            "text-anchor": "middle",
                            "font-size": letter_size,
                            "font-weight": "bold",
                            "fill": "#8a5a44",
                        },
                        text=letter,
                    ),
                    element(
                        "text",
                        {
                            "x": x,
                            "y": y + word_size * 1.3,
                            "text-anchor": "middle",
                            "font-size": word_size,
                            "fill": "#8a5a44",
                        },
                        text=word,
                    ),
                ],
            )
        )
    return parts


_Swatch = Callable[[float, float], str]


def _box(fill: str, stroke: str, **extra: AttributeValue) -> _Swatch:
    def draw(x: float, y: float) -> str:
        return element(
            "rect",
            {
                "x": x,
                "y": y - 7,
                "width": 18,
                "height": 14,
                "rx": 2,
                "fill": fill,
                "stroke": stroke,
                **extra,
            },
        )

    return draw


def _marker_swatch(x: float, y: float, scale: float = 1.0) -> str:
    radius = MARKER_RADIUS * scale
    return element(
        "circle",
        {
            "cx": x + radius,
            "cy": y,
            "r": radius,
            "fill": "#ffffff",
            "stroke": palette.ARROW,
            "stroke-width": 1.8,
        },
    ) + element(
        "text",
        {
            "x": x + radius,
            "y": y + MARKER_FONT * scale * 0.36,
            "text-anchor": "middle",
            "font-size": MARKER_FONT * scale,
            "font-weight": "bold",
            "fill": palette.ARROW,
        },
        text="1",
    )


def _arrow_swatch(x: float, y: float) -> str:
    return element(
        "path",
        {
            "d": f"M{x:.1f} {y:.1f} L{x + 20:.1f} {y:.1f}",
            "fill": "none",
            "stroke": palette.ARROW,
            "stroke-width": 2.4,
            "marker-end": f"url(#{palette.ARROWHEAD})",
        },
    )


def _circles_swatch(x: float, y: float) -> str:
    return element(
        "path",
        {
            "d": circle_arrow_data((x + 11, y), radius=7),
            "fill": "none",
            "stroke": palette.ARROW,
            "stroke-width": 2,
            "marker-end": f"url(#{palette.ARROWHEAD})",
        },
    )


def _coil_swatch(x: float, y: float) -> str:
    return element(
        "path",
        {
            "d": coil_data([(x, y), (x + 30, y)]),
            "fill": "none",
            "stroke": palette.ARROW,
            "stroke-width": 2,
            "marker-end": f"url(#{palette.ARROWHEAD})",
        },
    )


def _hold_swatch(x: float, y: float) -> str:
    return hold_mark((x + 11, y), radius=9)


def _landmark_swatch(x: float, y: float) -> str:
    return element(
        "circle",
        {
            "cx": x + 9,
            "cy": y,
            "r": 3.2,
            "fill": "#ffffff",
            "stroke": _LANDMARK,
            "stroke-width": 1.5,
        },
    )


def _heat_swatch(x: float, y: float) -> str:
    return element(
        "rect",
        {
            "x": x,
            "y": y - 7,
            "width": 90,
            "height": 14,
            "fill": f"url(#{palette.HEAT_GRADIENT})",
            "stroke": "#4a5a6a",
            "stroke-width": 0.8,
        },
    )


def _legend(layout: _Layout, *, steps: bool, heat: bool) -> tuple[str, float]:
    """The key under the body: swatches flowed left to right, wrapping to new rows."""
    items: list[tuple[_Swatch, float, str]] = (
        []
        if heat
        else [
            (
                _box(palette.MUSCLE_FILL[Area.NECK], palette.MUSCLE_EDGE[Area.NECK]),
                18,
                "neck muscle",
            ),
            (
                _box(palette.MUSCLE_FILL[Area.UPPER_BACK], palette.MUSCLE_EDGE[Area.UPPER_BACK]),
                18,
                "upper back muscle",
            ),
            (
                _box(palette.MUSCLE_FILL[Area.LOWER_BACK], palette.MUSCLE_EDGE[Area.LOWER_BACK]),
                18,
                "lower back muscle",
            ),
        ]
    )
    items += [
        (_box(f"url(#{palette.BONE_PATTERN})", palette.BONE_EDGE), 18, "bone: never press"),
        (
            _box(
                f"url(#{palette.CAUTION_PATTERN})",
                palette.CAUTION_EDGE,
                **{"stroke-dasharray": "4 2"},
            ),
            18,
            "caution: light touch only",
        ),
        (_landmark_swatch, 18, "landmark"),
    ]
    if steps:
        items += [
            (
                lambda x, y: _marker_swatch(x, y, layout.scale),
                2 * MARKER_RADIUS * layout.scale,
                "numbered steps in order",
            ),
            (_arrow_swatch, 24, "stroke direction"),
            (_circles_swatch, 22, "circles in place"),
            (_coil_swatch, 34, "circles along the line"),
            (_hold_swatch, 22, "hold still"),
        ]
    if heat:
        items.append((_heat_swatch, 90, "coverage: none \u2192 most"))
    left, right = _MARGIN, layout.width - _MARGIN
    size, row = _LEGEND_SIZE * layout.scale, _LEGEND_ROW * layout.scale
    x, y = left, layout.body_bottom + _MARGIN + row / 2
    parts: list[str] = []
    for swatch, swatch_width, text in items:
        width = swatch_width + 6 + text_width(text, size) + 18
        if x + width > right and x > left:
            x, y = left, y + row
        parts.append(swatch(x, y))
        parts.append(
            element(
                "text",
                {
                    "x": x + swatch_width + 6,
                    "y": y + size * 0.35,
                    "font-size": size,
                    "fill": palette.INK,
                },
                text=text,
            )
        )
        x += width
    height = y + row / 2 - (layout.body_bottom + _MARGIN)
    return group({"class": "legend"}, parts), height
