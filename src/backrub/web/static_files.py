"""The static files under versioned URLs: `/static/app.css?v=<backrub version>-<content hash>`.

Pages link every static file through `static_url` (a Jinja global), so a link changes whenever
the file's content or backrub's version does. A request carrying the file's current version may
then be kept by the browser for a year without asking again; one without it (an old link, a
hand-typed address) gets a short cache, so an upgrade reaches it within minutes.

A script's imports of its sibling modules (`from "./map.js"`) are served the same way: the
server writes each one's version into the import as it serves the script, so a module a page
never links itself is kept a year too, and a script's version changes with its imports'.
"""

from __future__ import annotations

import hashlib
import os
import re
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


# `import ... from "./name.js"`, `import "./name.js"`, `import("./name.js")`: a sibling module.
_IMPORT = re.compile(r"""(\b(?:from|import)\s*\(?\s*)(["'])\./([A-Za-z0-9_-]+\.js)\2""")


def _version(content: bytes) -> str:
    return f"{__version__}-{hashlib.sha256(content).hexdigest()[:10]}"


def _served(name: str, seen: frozenset[str]) -> bytes:
    content = (STATIC / name).read_bytes()
    if not name.endswith(".js"):
        return content

    def versioned(found: re.Match[str]) -> str:
        lead, quote, target = found.groups()
        if target in seen or not (STATIC / target).is_file():
            return found.group(0)  # a cycle or a missing file: left as written
        version = _version(_served(target, seen | {target}))
        return f"{lead}{quote}./{target}?v={version}{quote}"

    return _IMPORT.sub(versioned, content.decode("utf-8")).encode("utf-8")


@cache
def served(name: str) -> bytes:
    """A static file as it is served: a script with its sibling imports versioned."""
    return _served(name, frozenset({name}))


@cache
def versions() -> dict[str, str]:
    """Each static file's version, computed once per process (the files do not change while
    the server runs)."""
    return {
        path.name: _version(served(path.name))
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
        name = Path(full_path).name
        response = super().file_response(full_path, stat_result, scope, status_code)
        if name in versions() and name.endswith(".js") and status_code == 200:
            content = served(name)
            if content != Path(full_path).read_bytes():
                response = Response(content, media_type=response.media_type)
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [])
        current = versions().get(name)
        long_lived = current is not None and asked == [current]
        response.headers["cache-control"] = LONG_CACHE if long_lived else SHORT_CACHE
        return response
