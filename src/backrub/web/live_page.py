"""The live session page: what a giver keeps on a phone during the massage, and the receiver taps.

The page is rendered whole from the session's state, so it shows the step without JavaScript;
static/live.js then follows the live stream, counts the clocks down, speaks the cues, animates
the stroke on the map and sends the feedback buttons to the JSON API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backrub.atlas import Tissue, default_atlas
from backrub.method.words import vocabulary
from backrub.web.api import hub_of
from backrub.web.auth import Owner
from backrub.web.hub import NotFound
from backrub.web.maps import session_map
from backrub.web.remote_link import remote_qr
from backrub.web.templating import clock, templates

router = APIRouter(include_in_schema=False)

OVER = ("finished", "stopped")

SIDES = {
    "left": "left side",
    "right": "right side",
    "both": "both sides",
    "midline": "middle",
}
# What the hands do, as one short word for a glance across the room.
VERBS = {
    "sweep": "Sweep",
    "palm-compression": "Press",
    "kneading": "Knead",
    "circles": "Circles",
    "static-pressure": "Hold",
    "percussion": "Tap",
    "mild-rubbing": "Rub",
}
DIRECTIONS = {
    "down": "downwards",
    "up": "upwards",
    "outward": "outwards",
    "inward": "inwards",
    "circles": "in small circles",
    "still": "hold still",
}
PHASES = {
    "opening": "Warm-up",
    "neck": "Neck",
    "upper-back": "Upper back",
    "lower-back": "Lower back",
    "closing": "Closing",
}
# The receiver's other buttons (more, less and ouch are in the dock): event kind, key, label.
FEEDBACK = (
    ("ticklish", "t", "Ticklish"),
    ("headache", "h", "Headache"),
    ("nausea", "n", "Nausea"),
    ("cough", "c", "Cough"),
)
FELT_WORDS = {0: "nothing", 3: "pleasant", 5: "firm", 8: "too much", 10: "unbearable"}
SHORTCUTS = (
    ("m", "more pressure"),
    ("l", "less pressure"),
    ("o", "ouch: it hurts"),
    ("t", "ticklish"),
    ("h", "headache"),
    ("n", "nausea"),
    ("c", "cough"),
    ("k", "knot here (then pick the spot)"),
    ("s", "still tight"),
    ("r", "released"),
    ("y / d", "elbow yes / no"),
    ("0-9, +", "how it feels (+ is 10)"),
    ("j", "skip this step"),
    ("e", "+30 s on this step"),
    ("b", "back one step"),
    ("a", "repeat the cue"),
    ("space", "pause or resume"),
    ("q", "stop the session"),
    ("v", "voice on or off"),
    ("Esc", "cancel picking a spot"),
    ("?", "show or hide this list"),
)


def _step_line(step: dict[str, Any] | None) -> str:
    """'Knead · Back of the neck, left side · fingertips · 0:30' for the next-step line."""
    if step is None:
        return "Nothing after this: it is the last step."
    side = SIDES.get(step["side"], step["side"])
    verb = VERBS.get(step["technique"], step["technique"])
    contact = step["contact_name"].lower()
    return f"{verb} · {step['where']}, {side} · {contact} · {clock(step['seconds'])}"


def _said(cues: list[dict[str, Any]]) -> str:
    """The last cue, unless it is the step's own (the page shows that one already)."""
    return cues[-1]["text"] if cues and cues[-1]["key"] != "step" else ""


def _page(request: Request, context: dict[str, Any], *, status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, "session.html", context, status_code=status)


@router.get("/session/{session_id}", response_class=HTMLResponse)
def live_session(request: Request, session_id: str, account: Owner) -> Response:
    hub = hub_of(request)
    try:
        _, state = hub.state(session_id, account=account)
        followed = hub.followed(session_id, account=account)
    except NotFound:
        return _page(request, {"missing": True, "session_id": session_id}, status=404)
    if state["status"] in OVER:
        return RedirectResponse(f"/session/{session_id}/summary", status_code=303)
    with followed.lock:
        back_map = session_map(followed.run.engine)
    atlas = default_atlas()
    words = vocabulary()
    step = state["step"]
    low, high = step["target_band"] if step else (3, 5)
    remote_link, remote_code = remote_qr(request, session_id)
    context = {
        "remote_link": remote_link,
        "remote_qr": remote_code,
        "missing": False,
        "session_id": session_id,
        "state": state,
        "step": step,
        "back_map": back_map,
        "side": SIDES.get(step["side"], step["side"]) if step else "",
        "verb": VERBS.get(step["technique"], step["technique"]) if step else "",
        "direction": DIRECTIONS.get(step["direction"], step["direction"]) if step else "",
        "phase": PHASES.get(step["phase"], step["phase"]) if step else "",
        "next_line": _step_line(state["next_step"]),
        "said": _said(state["cues"]),
        "muscles": [r for r in atlas.regions if r.tissue is Tissue.MUSCLE],
        "pressure_words": [words.pressure_word(level) for level in range(1, 6)],
        "felt": [(value, FELT_WORDS.get(value, ""), low <= value <= high) for value in range(11)],
        "band": (low, high),
        "feedback": FEEDBACK,
        "shortcuts": SHORTCUTS,
        "sides": SIDES,
        "verbs": VERBS,
        "directions": DIRECTIONS,
        "phases": PHASES,
    }
    return _page(request, context)
