"""`backrub serve`: the web app on this machine (127.0.0.1), or on the local network with --lan."""

from __future__ import annotations

from typing import Annotated

import typer

from backrub.errors import BackrubError
from backrub.live import clock_speed

DEFAULT_PORT = 8765


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; only this machine by default.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = DEFAULT_PORT,
) -> None:
    """Serve the web app: plan, guide a session on a phone, look back. Ctrl-C stops it."""
    if not 0 < port < 65536:
        raise BackrubError(f"{port} is not a port; expected 1 to 65535", where="--port")
    speed = clock_speed()
    # Imported here: the web stack is heavy, and the other commands do not need it.
    import uvicorn

    from backrub.web.app import WebSettings, create_app

    app = create_app(WebSettings(speed=speed))
    print(f"backrub is serving on http://{host}:{port}/  (Ctrl-C stops it)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2)
