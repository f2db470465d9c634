"""The technique pictures over HTTP: the list of pairs the routines use, and each picture.

A picture never changes within a version of backrub, so its URL carries the version (see
`state.picture_url`) and the reply may be cached for a year. Any pair of the vocabulary can be
drawn, so a step the planner or engine reshaped (a stronger contact) still has its picture.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from backrub.method.pairs import Pair, used_pairs
from backrub.method.vocabulary import Contact, Technique
from backrub.render.techniques import caption, technique_svg
from backrub.web.errors import ERROR_RESPONSES
from backrub.web.hub import NotFound
from backrub.web.state import picture_url

router = APIRouter(prefix="/api", responses=ERROR_RESPONSES)

CACHE_FOREVER = {"Cache-Control": "public, max-age=31536000, immutable"}


@cache
def _svg(pair: Pair) -> str:
    return technique_svg(pair)


@router.get("/techniques", summary="Every technique and contact pair the routines use")
def techniques() -> dict[str, Any]:
    return {
        "techniques": [
            {
                "technique": technique.value,
                "contact": contact.value,
                "caption": caption((technique, contact)),
                "picture": picture_url(technique.value, contact.value),
            }
            for technique, contact in used_pairs()
        ]
    }


@router.get(
    "/techniques/{technique}/{contact}.svg",
    summary="A technique's picture: the giver's hand or arm on a back, animated",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def technique_picture(technique: str, contact: str) -> Response:
    try:
        pair = (Technique(technique), Contact(contact))
    except ValueError:
        raise NotFound(
            f"no picture for {technique!r} with {contact!r}: techniques are "
            f"{', '.join(t.value for t in Technique)}; contacts are "
            f"{', '.join(c.value for c in Contact)}",
            where="technique",
        ) from None
    return Response(_svg(pair), media_type="image/svg+xml", headers=CACHE_FOREVER)
