"""The static files under versioned URLs: `/static/app.css?v=<backrub version>-<content hash>`.

Pages link every static file through `static_url` (a Jinja global), so a link changes whenever
the file's content or backrub's version does. A request carrying the file's current version may
then be kept by the browser for a year without asking again; one without it (an old link, a
hand-typed address) gets a short cache, so an upgrade reaches it within minutes.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from backrub import __version__

STATIC = Path(str(resources.files("backrub.web").joinpath("static")))
PREFIX = "/static/"
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=300"


@cache
def versions() -> dict[str, str]:
    """Each static file's version, computed once per process (the files do not change while
    the server runs)."""
    return {
        path.name: f"{__version__}-{hashlib.sha256(path.read_bytes()).hexdigest()[:10]}"
        for path in sorted(STATIC.iterdir())
        if path.is_file()
    }


def static_url(name: str) -> str:
    """'app.css' -> '/static/app.css?v=0.1.0-3f2a9c0d1e'. An unknown name is a template's
    mistake: it fails the page loudly instead of linking to nothing."""
    return f"{PREFIX}{name}?v={versions()[name]}"


class VersionedStaticFiles(StaticFiles):
    """StaticFiles whose replies say how long to keep them (see the module's docstring)."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [])
        current = versions().get(Path(full_path).name)
        long_lived = current is not None and asked == [current]
        response.headers["cache-control"] = LONG_CACHE if long_lived else SHORT_CACHE
        return response
