"""What the printable plan adds to the plan itself: the set-up before the first stroke, and each
step with its technique picture and how-to. A step done alike on the other side right after
shares its row ("4-5"), so a 20-minute plan fits two A4 pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backrub.method.routine import BUILT_IN_ROUTINES, built_in_routine
from backrub.method.vocabulary import Contact, Technique
from backrub.render.techniques import caption
from backrub.web.state import picture_url

# The routine's own set-up lines first (its words, with their how-to), in this order.
ROUTINE_SETUP = (
    ("The chair", "setting"),
    ("Resting the head", "neck-support"),
    ("How you stand", "body-mechanics"),
    ("Water", "water"),
)
# Ours, for what no routine says in a cue.
SITTING = (
    "How they sit",
    "Feet flat, sitting a little forward, chest on a cushion against the chair's back or a table.",
    "Arms rest, shoulders hang loose, breathing is easy; change the cushion until it is.",
)
WARM_HANDS = (
    "Warm hands",
    "Rub your hands together until they are warm; take off rings and watch.",
    "Cold hands make muscles tighten. Short nails, and no jewellery to catch on the shirt.",
)
OWN_HOW = {"water": "A glass within reach for each of you, and one for them when you finish."}
NEVER = (
    "Never pressed",
    "No pressing on bone (the spine, the shoulder blades' edges), the kidneys (the low back "
    "just under the ribs) or the front and sides of the neck.",
    "These are on the map in grey. An ouch means ease off or move on: pain is never the aim.",
)


@dataclass(frozen=True)
class SetupItem:
    title: str
    text: str
    how: str


@dataclass(frozen=True)
class PrintedStep:
    """One row of the printed steps: a step, or a run of steps done alike on each side."""

    numbers: str  # "4" or "4-5"
    start_seconds: float
    seconds: float
    sides: str  # "left", "left, then right"
    cue: str
    how: str
    technique: str
    contact: str
    pressure: int
    pressure_word: str
    direction: str
    picture: str
    caption: str


def setup_items(routine_id: str) -> list[SetupItem]:
    """The set-up, from the plan's routine (the classic one's lines where it has none)."""
    routines = [built_in_routine("classic")]
    if routine_id in BUILT_IN_ROUTINES and routine_id != "classic":
        routines.insert(0, built_in_routine(routine_id))
    items: list[SetupItem] = []
    for title, key in ROUTINE_SETUP:
        cue = next((c for r in routines if (c := r.cue(key)) is not None), None)
        if cue is not None:
            how = " ".join(cue.how.split()) or OWN_HOW.get(key, "")
            items.append(SetupItem(title, cue.text, how))
        if key == "setting":
            items += [SetupItem(*SITTING), SetupItem(*WARM_HANDS)]
    items.append(SetupItem(*NEVER))
    return items


def printed_steps(steps: list[dict[str, Any]]) -> list[PrintedStep]:
    """The plan's steps (plan JSON) for paper: a step repeated on the other side right after
    (same cue, how-to, technique, contact and pressure) shares its row, so a 20-minute plan's
    how-to texts and pictures fit two A4 pages."""
    runs: list[list[dict[str, Any]]] = []
    for step in steps:
        if runs and _alike(runs[-1][-1], step):
            runs[-1].append(step)
        else:
            runs.append([step])
    rows = []
    for run in runs:
        first, last = run[0], run[-1]
        numbers = str(first["number"])
        if len(run) > 1:
            numbers += f"-{last['number']}"
        technique, contact = Technique(first["technique"]), Contact(first["contact"])
        rows.append(
            PrintedStep(
                numbers=numbers,
                start_seconds=first["start_seconds"],
                seconds=sum(step["seconds"] for step in run),
                sides=", then ".join(dict.fromkeys(step["side"] for step in run)),
                cue=first["cue"],
                how=" ".join(first["how"].split()),
                technique=first["technique"],
                contact=first["contact"],
                pressure=first["pressure"],
                pressure_word=first["pressure_word"],
                direction=first["direction"],
                picture=picture_url(first["technique"], first["contact"]),
                caption=caption((technique, contact)),
            )
        )
    return rows


def _alike(one: dict[str, Any], other: dict[str, Any]) -> bool:
    keys = ("cue", "how", "technique", "contact", "pressure", "direction")
    return all(one[key] == other[key] for key in keys) and one["side"] != other["side"]
