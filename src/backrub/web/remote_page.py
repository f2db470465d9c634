"""The receiver's remote: a phone page with only the buttons the person being massaged needs.

It follows the session over the same live stream as the giver's page and is guarded the same
way (the pairing gate on --lan, the log-in and owner check on --hosted). It never speaks: each
press goes to the JSON API marked `source: "remote"`, and the giver's page says it aloud.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backrub.atlas import Tissue, default_atlas
from backrub.web.api import hub_of
from backrub.web.auth import Owner
from backrub.web.hub import NotFound
from backrub.web.live_page import FELT_WORDS, OVER
from backrub.web.templating import templates

router = APIRouter(include_in_schema=False)

# Event kind and label, in the order a thumb finds them: pressure first, then the rest.
BUTTONS = (
    ("less", "Less"),
    ("more", "More"),
    ("pain", "Ouch"),
    ("ticklish", "Ticklish"),
    ("knot", "Knot here"),
    ("headache", "Headache"),
    ("nausea", "Nausea"),
)


@router.get("/session/{session_id}/remote", response_class=HTMLResponse)
def remote(request: Request, session_id: str, account: Owner) -> Response:
    hub = hub_of(request)
    try:
        _, state = hub.state(session_id, account=account)
    except NotFound:
        return templates.TemplateResponse(
            request, "session.html", {"missing": True, "session_id": session_id}, status_code=404
        )
    if state["status"] in OVER:
        return RedirectResponse(f"/session/{session_id}/summary", status_code=303)
    step = state["step"]
    low, high = step["target_band"] if step else (3, 5)
    context = {
        "session_id": session_id,
        "state": state,
        "step": step,
        "buttons": BUTTONS,
        "felt": [(value, FELT_WORDS.get(value, ""), low <= value <= high) for value in range(11)],
        "band": (low, high),
        # After "Ouch": where it hurts, in a list beside the map (the keyboard's way to pick).
        "muscles": [r for r in default_atlas().regions if r.tissue is Tissue.MUSCLE],
    }
    return templates.TemplateResponse(request, "remote.html", context)
