"""The words of a step follow its contact and technique.

A routine's cue and how-to text are written for the contact and technique of that step. When the
planner or the live engine moves a step to another contact (pressure too light for the forearm,
say) or another technique, the old words would tell the giver to do something else than the step
now asks; the step then gets words made from the vocabulary for what it now is.
"""

from __future__ import annotations

from backrub.method.step import Step
from backrub.method.vocabulary import Contact, Technique
from backrub.method.words import contact_info, vocabulary


def plain_cue(contact: Contact, technique: Technique) -> str:
    """A short cue for a technique with a contact, e.g. "Still pressure with the palms"."""
    name = vocabulary().technique[technique].name
    hand = contact_info(contact).name
    return f"{name} with the {hand[0].lower()}{hand[1:]}"


def plain_how(contact: Contact, technique: Technique) -> str:
    return f"{contact_info(contact).how} {vocabulary().technique[technique].how}"


def reworded(step: Step, before: Step) -> Step:
    """`step` (a changed `before`) with words for its own contact and technique.

    Unchanged contact and technique keep the written words; a change gets the plain ones.
    """
    if step.contact == before.contact and step.technique == before.technique:
        return step
    return step.model_copy(
        update={
            "cue": plain_cue(step.contact, step.technique),
            "how": plain_how(step.contact, step.technique),
        }
    )
