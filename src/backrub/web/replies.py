"""How the API writes JSON: never NaN or Infinity, which are not JSON.

The request models and the file readers refuse non-finite numbers on the way in, so one in a
reply is a bug. FastAPI's usual path quietly turns it into null (pydantic writes the return value
against its annotation); these routes skip that path and render with json.dumps(allow_nan=False),
so such a bug is a 500 that says something is wrong instead of a reply that lies.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.datastructures import DefaultPlaceholder
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute


class FiniteJSONResponse(JSONResponse):
    """A JSON reply that refuses (ValueError) to write NaN or Infinity."""

    def render(self, content: Any) -> bytes:
        return json.dumps(
            content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
        ).encode("utf-8")


class FiniteJSONRoute(APIRoute):
    """An API route whose return value goes to FiniteJSONResponse as it is (FastAPI's encoder
    keeps floats as they are), not through pydantic's writer first. The routes' return types
    (dicts of anything) said nothing in the OpenAPI document that this loses."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        if isinstance(options.get("response_model", DefaultPlaceholder(None)), DefaultPlaceholder):
            options["response_model"] = None
        if isinstance(options.get("response_class", DefaultPlaceholder(None)), DefaultPlaceholder):
            options["response_class"] = FiniteJSONResponse
        super().__init__(path, endpoint, **options)
