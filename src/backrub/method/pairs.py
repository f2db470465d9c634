"""The technique and contact pairs the built-in routines use: the pictures' list, from data."""

from __future__ import annotations

from functools import cache

from backrub.method.routine import BUILT_IN_ROUTINES, Routine, built_in_routine
from backrub.method.vocabulary import Contact, Technique

Pair = tuple[Technique, Contact]


def routine_pairs(routine: Routine) -> set[Pair]:
    """Every pair a routine can ask for: its steps, and its knot ladder's rungs and aftercare."""
    found = {(step.technique, step.contact) for step in routine.steps}
    ladder = routine.data.knot_ladder
    if ladder is not None:
        found.update((rung.technique, rung.contact) for rung in (*ladder.rung, ladder.aftercare))
    return found


@cache
def used_pairs() -> tuple[Pair, ...]:
    """The pairs of every built-in routine, in the vocabulary's order (technique, then contact)."""
    found: set[Pair] = set()
    for name in BUILT_IN_ROUTINES:
        found |= routine_pairs(built_in_routine(name))
    techniques, contacts = list(Technique), list(Contact)
    return tuple(sorted(found, key=lambda p: (techniques.index(p[0]), contacts.index(p[1]))))
