"""The live state every device shows, as JSON: the step, the clocks, what comes next, the cues.

The shape is documented in docs/web-api.md. Clocks are in session seconds; a page counts them
down itself between updates, so the server sends the state only when something changes.
"""

from __future__ import annotations

from typing import Any

from backrub import __version__
from backrub.live import LiveRun
from backrub.method.vocabulary import Contact, Technique
from backrub.method.words import contact_info, vocabulary
from backrub.plain_words import reaction_in_words
from backrub.render.techniques import caption
from backrub.session.state import Reaction
from backrub.session.view import StepView, view_of

RECENT_CUES = 6


def picture_url(technique: str, contact: str) -> str:
    """Where a pair's technique picture is served (web/techniques.py). The version is in the
    URL because the picture is cached for a year and only changes with a new version."""
    return f"/api/techniques/{technique}/{contact}.svg?v={__version__}"


def contact_name(contact: str) -> str:
    return contact_info(Contact(contact)).name


def step_json(step: StepView | None) -> dict[str, Any] | None:
    if step is None:
        return None
    return {
        "id": step.id,
        "phase": step.phase,
        "regions": list(step.regions),
        "where": step.where,
        "side": step.side,
        "technique": step.technique,
        "contact": step.contact,
        "contact_name": contact_name(step.contact),
        "pressure": step.pressure,
        "pressure_word": step.pressure_word,
        "pressure_like": vocabulary().pressure_like(step.pressure),
        "picture": picture_url(step.technique, step.contact),
        "picture_caption": caption((Technique(step.technique), Contact(step.contact))),
        "direction": step.direction,
        "cue": step.cue,
        "how": step.how,
        "seconds": round(step.seconds, 1),
        "knot_rung": step.knot_rung,
        "check_in": step.check_in,
        "target_band": list(step.target_band),
    }


def reaction_json(reactions: list[Reaction], routine_id: str) -> dict[str, Any] | None:
    if not reactions:
        return None
    last = reactions[-1]
    return {
        "number": len(reactions) - 1,
        "event": last.event,
        "what": last.what,
        # What the pages show: the same answer with no step or region id in it.
        "words": reaction_in_words(last.what, routine_id),
        "method_ids": list(last.method_ids),
        "at": round(last.at, 1),
    }


def session_state(
    run: LiveRun, version: int, press: dict[str, Any] | None = None
) -> dict[str, Any]:
    engine = run.engine
    view = view_of(engine, recent=RECENT_CUES)
    cues = engine.state.cues
    first = len(cues) - len(view.recent_cues)
    return {
        "session": run.id,
        "version": version,
        "status": view.status.value,
        "speed": run.speed,
        "clock": round(view.clock, 2),
        "worked": round(view.worked, 2),
        "budget": view.budget,
        "progress": round(view.progress, 4),
        "session_left": round(view.session_left, 1),
        "step": step_json(view.step),
        "step_elapsed": round(view.step_elapsed, 2),
        "step_left": round(view.step_left, 1),
        "next_step": step_json(view.next_step),
        "knot_region": view.knot_region,
        "asking_elbow": view.asking_elbow,
        "waiting_knots": list(view.waiting_knots),
        # Numbered, so a page speaks each cue once however many updates repeat it.
        "cues": [
            {"number": first + index, "key": cue.key, "text": cue.text, "at": round(cue.at, 1)}
            for index, cue in enumerate(view.recent_cues)
        ],
        "cue_count": len(cues),
        # What the engine made of the newest event, numbered like the cues: a page tells the
        # person who pressed (a press that changed nothing says why).
        "reaction": reaction_json(engine.state.reactions, engine.plan.routine_id),
        # The newest press through this server and who made it (the receiver's remote or a
        # page), so the giver's page can tell and say aloud what the receiver asked for.
        "press": press,
        # The stored event count: the same on every server process, unlike `version`.
        "seq": run.seq,
    }
