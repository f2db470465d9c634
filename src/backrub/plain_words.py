"""A plan's notes and left-out list, and the engine's answers, in plain words: for the pages a
giver reads and the terminal guide (a module of its own so no front end imports another's).

The planner speaks in ids (step 'upper-back.ribs.left', region 'latissimus-right', method
elements '(U6, U7)'): exact, and right for the CLI and the API. A page shows what a person would
say instead, and keeps the method elements apart so a template can tuck them into a <details>.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from backrub.atlas import default_atlas
from backrub.errors import BackrubError
from backrub.method.routine import built_in_routine
from backrub.planner import Order
from backrub.planner.plan import Plan

# "... first (U6, U7)." / "Order: top-down (B2)." -> the element ids at the end of a note.
ELEMENTS = re.compile(r"\s*\(([A-Z]\d{1,2}(?:,\s*[A-Z]\d{1,2})*)\)(?=[.;:]?\s*$)")
ORDER_NOTE = re.compile(r"^Order: ([a-z-]+)")

# Each order as the start page offers it: a short name, then what it is good for.
ORDER_WORDS: dict[Order, tuple[str, str]] = {
    Order.TOP_DOWN: (
        "From the top down",
        "neck and shoulders first, then down the back: calm and even, the one to pick "
        "when they mainly want to unwind.",
    ),
    Order.UPPER_LOWER_NECK: (
        "Upper back, lower back, then neck",
        "the big back muscles first, and the neck last, once the shoulders have let go.",
    ),
    Order.PROBLEM_FIRST: (
        "Sore spots first",
        "the trouble spots you ticked come straight after the warm-up, while you both "
        "still have the most time and patience for them.",
    ),
}

PHASE_WORDS = {
    "opening": "warm-up",
    "neck": "neck",
    "upper-back": "upper back",
    "lower-back": "lower back",
    "closing": "finish",
}
KIND_WORDS = {"region": "Spot", "step": "Step", "technique": "Stroke", "contact": "Hand part"}


@dataclass(frozen=True)
class Said:
    """One line for the page, and the method elements behind it ('' when none)."""

    text: str
    elements: str = ""


@dataclass(frozen=True)
class LeftOutLine:
    kind: str
    name: str
    reason: str


def order_name(order: Order | str) -> str:
    try:
        return ORDER_WORDS[Order(order)][0]
    except ValueError:
        return str(order)


def region_name(region_id: str) -> str:
    """A region's name in words; an id the atlas does not know is shown as it is."""
    atlas = default_atlas()
    return atlas.region(region_id).name if atlas.has_region(region_id) else region_id


@cache
def _region_pattern(*, codes_only: bool = False) -> re.Pattern[str]:
    """Every region id as a whole word, longest first; `codes_only`: only the ids with a dash
    ("neck-left"), as a one-word id ("spine") is already a plain word in a sentence."""
    ids = (i for i in default_atlas().region_ids if not codes_only or "-" in i)
    ordered = sorted(ids, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(i) for i in ordered) + r")\b")


def in_words(text: str) -> str:
    """Region ids ('neck-left') in a planner's or engine's sentence put in words."""
    return _region_pattern().sub(lambda match: region_name(match.group(1)), text)


def plain_note(note: str) -> Said:
    """'Order: top-down (B2).' -> 'Order: from the top down.' with 'B2' kept apart."""
    found = ELEMENTS.search(note)
    elements = found.group(1) if found else ""
    text = ELEMENTS.sub("", note) if found else note
    order = ORDER_NOTE.match(text)
    if order:
        text = f"Order: {order_name(order.group(1)).lower()}{text[order.end() :]}"
    return Said(in_words(text), elements)


@cache
def _cues(routine_id: str) -> dict[str, str]:
    try:
        routine = built_in_routine(routine_id)
    except BackrubError:
        return {}  # a routine from a file: the step id is read in words below instead
    return {step.id: step.cue for step in routine.steps if step.cue}


def step_name(routine_id: str, step_id: str) -> str:
    """A step as the giver knows it: its cue, else its part of the back and side."""
    parts = step_id.split(".")
    side = f" ({parts[-1]})" if parts[-1] in ("left", "right") else ""
    cue = _cues(routine_id).get(step_id)
    if cue:
        return f"{cue.rstrip('.')}{side}"
    return f"A {PHASE_WORDS.get(parts[0], 'back')} step{side}"


_STEP_ID = re.compile(
    r"\b(?:opening|neck|upper-back|lower-back|closing|knot-\d+)(?:\.[a-z0-9-]+)+\b"
)
_KNOT_PART = {"aftercare": "the aftercare", "gentle": "gentle circles"}


def _step_in_words(routine_id: str, step_id: str) -> str:
    parts = step_id.split(".")
    if parts[0].startswith("knot-") and len(parts) >= 2:
        # knot-1.middle-trapezius-left.rung-2: the knot's ladder, on its region
        where = region_name(parts[1])
        last = parts[-1]
        what = _KNOT_PART.get(
            last, f"step {last[5:]} of the ladder" if last.startswith("rung-") else ""
        )
        return f"{what} on the knot ({where})" if what else f"the knot ({where})"
    return f"“{step_name(routine_id, step_id)}”"


@cache
def _reaction_pattern() -> re.Pattern[str]:
    # Step ids and region codes in one pattern, so a region word inside a step's cue is not
    # read again. Compiled once: every state a server sends puts its reaction in words.
    return re.compile(f"{_STEP_ID.pattern}|{_region_pattern(codes_only=True).pattern}")


@lru_cache(maxsize=1024)
def reaction_in_words(text: str, routine_id: str) -> str:
    """An engine's answer with its step ids ('closing.sweeps') and region ids in words.

    Kept for the last answers: a session's newest reaction is in every state sent until the
    next one, and many sessions give the same answers."""

    def say(match: re.Match[str]) -> str:
        found = match.group(1)
        return region_name(found) if found else _step_in_words(routine_id, match.group(0))

    return _reaction_pattern().sub(say, text)


def _sentence(text: str) -> str:
    """'no room in 20 minutes' -> 'No room in 20 minutes.'"""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


def plain_notes(plan: Plan) -> list[Said]:
    return [plain_note(note) for note in plan.notes]


def plain_left_out(plan: Plan) -> list[LeftOutLine]:
    lines = []
    for item in plan.left_out:
        if item.kind == "region":
            name = region_name(item.name)
        elif item.kind == "step":
            name = step_name(plan.routine_id, item.name)
        else:
            name = item.name.replace("-", " ")
        reason = in_words(item.reason)
        lines.append(LeftOutLine(KIND_WORDS.get(item.kind, item.kind), name, _sentence(reason)))
    return lines
