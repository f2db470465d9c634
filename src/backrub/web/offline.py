"""The service worker's script at the root, /sw.js, so its scope is the whole app (a script
under /static/ could only look after /static/). Its text is static/sw.js; no copy is kept by
the browser's HTTP cache (the security headers say no-store), so a new version of backrub
reaches every device at its next visit. See static/sw.js for what the worker keeps."""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter
from fastapi.responses import Response

from backrub.web.static_files import STATIC

router = APIRouter(include_in_schema=False)
SCRIPT = "sw.js"


@cache
def _script() -> bytes:
    return (STATIC / SCRIPT).read_bytes()


@router.get("/sw.js")
def service_worker() -> Response:
    return Response(
        _script(),
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/"},
    )
