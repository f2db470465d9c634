"""Which server process answered: the `X-Backrub-Worker` header every reply carries
(added with the security headers, security.py).

With several workers behind one port (or one load balancer), the kernel picks the process for
each connection. The header names it (a random id made when the process starts, not its pid),
so an operator or a test can tell that a live stream and the press it shows went through
different processes.
"""

from __future__ import annotations

import secrets

WORKER_ID = secrets.token_hex(4)  # one per process: each Uvicorn worker imports this anew
HEADER = (b"x-backrub-worker", WORKER_ID.encode())
