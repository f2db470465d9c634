"""`backrub atlas`: the regions and landmarks of the back, as a table, JSON or a labelled map."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from backrub.atlas import BodyFit, default_atlas
from backrub.cli.output import print_json, write_text_atomically
from backrub.errors import BackrubError
from backrub.render import draw_atlas

ATLAS_SCHEMA = "backrub.atlas"
ATLAS_VERSION = 1


def atlas(
    svg: Annotated[
        Path | None, typer.Option("--svg", help="Draw the labelled back map into this SVG file.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print regions and landmarks as JSON.")
    ] = False,
    shoulder_width: Annotated[
        float | None,
        typer.Option("--shoulder-width", help="Shoulder width in cm, for centimetre positions."),
    ] = None,
    back_length: Annotated[
        float | None,
        typer.Option("--back-length", help="Base of skull to S2 in cm, for centimetre positions."),
    ] = None,
) -> None:
    """Show the back atlas: every region the method names, bone and caution zones included."""
    the_atlas = default_atlas()
    fit = _fit(shoulder_width, back_length)
    if svg is not None:
        write_text_atomically(
            svg, draw_atlas(the_atlas, title="backrub: the back, seen from behind")
        )
    geometry = the_atlas.geometry
    if as_json:
        print_json(
            {
                "schema": ATLAS_SCHEMA,
                "version": ATLAS_VERSION,
                "fit": fit.model_dump(),
                "regions": [
                    {
                        "id": region.id,
                        "name": region.name,
                        "side": region.side.value,
                        "tissue": region.tissue.value,
                        "area": region.area.value,
                        "muscles": list(region.muscles),
                        "centre_cm": [round(v, 1) for v in fit.to_cm(geometry.centroid(region.id))],
                    }
                    for region in the_atlas.regions
                ],
                "landmarks": [
                    {
                        "id": lm.id,
                        "name": lm.name,
                        "side": lm.side.value,
                        "point_cm": [round(v, 1) for v in fit.to_cm(lm.point)],
                    }
                    for lm in the_atlas.landmarks
                ],
            }
        )
        return
    table = Table(title="The back atlas (x from the spine, y down from the base of the skull)")
    for column in ("region", "side", "tissue", "area", "centre (cm)", "muscles"):
        table.add_column(column, overflow="fold")
    for region in the_atlas.regions:
        x, y = fit.to_cm(geometry.centroid(region.id))
        table.add_row(
            region.id,
            region.side.value,
            region.tissue.value,
            region.area.value,
            f"{x:+.0f}, {y:.0f}",
            ", ".join(region.muscles),
        )
    console = Console()
    console.print(table)
    if svg is not None:
        console.print(f"Map drawn: {svg}")


def _fit(shoulder_width: float | None, back_length: float | None) -> BodyFit:
    """The measurements given, or a one-line refusal naming the option (`--back-length 500`)."""
    given = {"shoulder_width_cm": shoulder_width, "skull_to_s2_cm": back_length}
    try:
        return BodyFit(**{key: value for key, value in given.items() if value is not None})
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        option = "--shoulder-width" if first["loc"][0] == "shoulder_width_cm" else "--back-length"
        raise BackrubError(first["msg"], where=option) from None
