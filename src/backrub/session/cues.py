"""Cue texts for the live guide: the plan's routine first, the classic routine as a fallback."""

from __future__ import annotations

from backrub.errors import UnknownNameError
from backrub.method.routine import BUILT_IN_ROUTINES, KnotLadder, Routine, built_in_routine
from backrub.session.state import Cue

# Lines the engine needs that a routine may not carry; ours, so a guide never goes silent.
_DEFAULTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "step-done": ("Good. On to the next step.", ()),
    "too-much": ("That is too much: easing off a level.", ("U4",)),
    "just-right": ("That is right where it should be; keep going.", ("U4",)),
    "at-limit": ("That is as firm as is safe here; staying at this pressure.", ("X1", "X3")),
    "safety-skip": ("Skipping this part: it would break a safety rule now.", ("X5",)),
    "nausea-pause": (
        "Stop and check on them: fresh air and a sip of water; go on only if it passes.",
        ("X5",),
    ),
    "headache-ease": ("Easing off a little; ask how the head feels.", ("U4",)),
    "no-time-knot": ("No time left for this knot today; it is noted for next time.", ("U8",)),
    "knot-later": ("Knot noted: you will come back to it once the warm-up is done.", ("O1", "O4")),
    "gentle-knot": ("Gentle circles only here; deep knot work is not for this area.", ("X3",)),
    "balance": ("A little more on this side so both sides feel the same.", ("B1",)),
    "finished": ("That is the end. Let them sit for a moment before standing.", ("C4",)),
    "stopped": ("Session stopped. Finish with a few light sweeps if it feels right.", ("C4",)),
    "paused": ("Paused. Hands off; resume when you are both ready.", ()),
    "resumed": ("Resuming where you left off.", ()),
    "knot-next-time": (
        "That knot is noted for next time; the forearm was as deep as it goes today.",
        ("U6", "U8"),
    ),
    "aftercare-short": ("A few seconds of light rubbing to settle the spot, then on.", ("U9",)),
    "kidney-knot": (
        "That is the kidney area: no knot work there. Keep to light strokes over it.",
        ("X2",),
    ),
    "extend": ("Thirty seconds more here; later steps give the time.", ()),
    "extend-refused": ("No extra time here: carry on as it is.", ()),
    "back": ("Back one step: this one again, then on from where you were.", ()),
    "back-refused": ("Not going back: carry on with this step.", ()),
    "skip-closing": (
        "A few seconds more: the closing tells the body the massage is ending.",
        ("C1",),
    ),
}

# The aftercare's own cue says the knot let go; after a ladder that ended otherwise it did not.
AFTERCARE_NOT_RELEASED = "That is enough on this knot: rub the spot gently with your palm"


class CueBook:
    """Looks up cue texts by key."""

    def __init__(self, routine_id: str) -> None:
        self.routine: Routine = built_in_routine(
            routine_id if routine_id in BUILT_IN_ROUTINES else "classic"
        )
        self._fallback = built_in_routine("classic")

    @property
    def ladder(self) -> KnotLadder:
        ladder = self.routine.data.knot_ladder or self._fallback.data.knot_ladder
        if ladder is None:
            raise UnknownNameError("no knot ladder in the routine or the classic routine")
        return ladder

    def cue(self, key: str, at: float) -> Cue:
        for routine in (self.routine, self._fallback):
            found = routine.cue(key)
            if found is not None:
                return Cue(key=key, text=found.text, method_ids=tuple(found.ids), at=at)
        text, ids = _DEFAULTS.get(key, (key.replace("-", " ").capitalize() + ".", ()))
        return Cue(key=key, text=text, method_ids=ids, at=at)
