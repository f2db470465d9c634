"""The link to the receiver's remote and its QR code, for the giver's page to show."""

from __future__ import annotations

import segno
from fastapi import Request


def remote_path(session_id: str) -> str:
    return f"/session/{session_id}/remote"


def remote_qr(request: Request, session_id: str) -> tuple[str, str]:
    """The remote's full link (as the giver's browser reached this server, so a phone on the
    same network can follow it) and its QR code as inline SVG, drawn here: nothing loads from
    outside."""
    link = str(request.base_url).rstrip("/") + remote_path(session_id)
    # White squares behind the dark ones, so the code scans on a dark page too.
    code = segno.make(link, error="m").svg_inline(
        scale=3, dark="#000", light="#fff", title="QR code of the receiver's remote link"
    )
    return link, code
