"""Start the test suite's `backrub serve` processes by forking one that imported their libraries.

About a hundred servers start during the suite, and each spent over a second of CPU importing
FastAPI, Pydantic, SQLAlchemy, Alembic, Uvicorn, NumPy, Shapely...: a sixth of the suite's CPU.
This helper process (one per pytest process, started at its first server) imports those once,
then forks a child for each server (and for each command tests/webserver.py's `run_command`
runs), which runs `python -m backrub serve ...` as the plain
command would: same argv, environment, working folder, output to the log file, exit code.

Only third-party libraries are imported beforehand, never backrub's own modules: those hold
per-process state made at import (a worker's random id, ...) that each server must make anew.

Spoken over its stdin and stdout, one JSON object a line each way:
  {"start": {"argv": [...], "env": {...}, "cwd": "...", "out": "...", "err": "..."}} -> {"pid": N}
  {"poll": N}                                                            -> {"code": C or null}
The helper reaps its children, so only it knows their exit codes (as subprocess.Popen's:
negative for a signal). It exits when its stdin closes; servers still running keep running,
as with subprocess.Popen, and the tests stop them.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import runpy
import sys
from typing import Any

PRELOADED = (
    "alembic.command",
    "alembic.config",
    "alembic.runtime.migration",
    "argon2",
    "concurrent.futures",
    "fastapi",
    "fastapi.openapi.models",
    "fastapi.responses",
    "fastapi.routing",
    "fastapi.staticfiles",
    "fastapi.templating",
    "httpx",
    "jinja2",
    "numpy",
    "numpy.typing",
    "platformdirs",
    "psycopg",
    "pydantic",
    "pydantic.v1",
    "pydantic_settings",
    "segno",
    "shapely",
    "shapely.geometry",
    "shapely.ops",
    "sqlalchemy",
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.orm",
    "sqlite3",
    "starlette",
    "starlette.middleware.gzip",
    "typer",
    "uvicorn",
    "uvicorn.lifespan.on",
    "uvicorn.loops.auto",
    "uvicorn.main",
    "uvicorn.protocols.http.auto",
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.websockets.auto",
    "yaml",
)


def _preload() -> None:
    for name in PRELOADED:
        with contextlib.suppress(ImportError):  # not installed: the server does without
            importlib.import_module(name)


def _status(status: int) -> int:
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _serve_requests() -> dict[str, Any]:
    """Answer requests until one asks for a server; in the forked child, return that request."""
    codes: dict[int, int] = {}
    for line in sys.stdin:
        request = json.loads(line)
        if "poll" in request:
            pid = int(request["poll"])
            if pid not in codes:
                try:
                    done, status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:  # not ours, or already reaped
                    done, status = pid, 0
                if done == pid:
                    codes[pid] = _status(status)
            answer: dict[str, Any] = {"code": codes.get(pid)}
        else:
            start = request["start"]
            pid = os.fork()
            if pid == 0:
                return dict(start)
            answer = {"pid": pid}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    sys.exit(0)


def _run(start: dict[str, Any]) -> None:
    """In the child: become `python -m backrub ARGS` in its folder, with its environment, its
    output in the file `out` and its errors in `err` (the same file for a server)."""
    null = os.open(os.devnull, os.O_RDONLY)
    out = os.open(start["out"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    err = out if start["err"] == start["out"] else os.open(start["err"], os.O_WRONLY | os.O_CREAT)
    for source, target in ((null, 0), (out, 1), (err, 2)):
        os.dup2(source, target)
    for opened in {null, out, err}:
        os.close(opened)
    os.chdir(start["cwd"])
    os.environ.clear()
    os.environ.update(start["env"])
    sys.path[0] = start["cwd"]  # as `python -m` puts the working folder first
    sys.argv = ["backrub", *start["argv"]]
    runpy.run_module("backrub", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    _preload()
    _run(_serve_requests())
