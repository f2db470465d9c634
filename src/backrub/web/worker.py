"""Which server process answered: an `X-Backrub-Worker` header on every reply.

With several workers behind one port (or one load balancer), the kernel picks the process for
each connection. The header names it (a random id made when the process starts, not its pid),
so an operator or a test can tell that a live stream and the press it shows went through
different processes.
"""

from __future__ import annotations

import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

WORKER_ID = secrets.token_hex(4)  # one per process: each Uvicorn worker imports this anew
HEADER = (b"x-backrub-worker", WORKER_ID.encode())


class WorkerHeader:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), HEADER]
            await send(message)

        await self.app(scope, receive, with_header)
