"""The start page's quick path for a saved receiver: last time's screening answers, asked again
as one question, "Anything changed since last time?".

The saved answers go back into the form as they were (ticked questions, problems in one spot),
so a saved answer that stops or restricts a session still does. The one question decides only
how the answers are confirmed: "no" lets them stand; "yes" opens every question, pre-filled, and
the session starts only once they have been on screen (`reviewed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backrub.errors import BackrubError
from backrub.plain_words import region_name
from backrub.safety.screening import local_check, parse_local_problem, screening_questions
from backrub.store import ProfileRecord

# Form fields only the start page sends; the Intake model never sees them.
QUICK = "quick"  # "1": the page asked "anything changed since last time?"
CHANGED = "changed"  # the answer: "no" or "yes"
REVIEWED = "reviewed"  # "1": the full questions were opened on the page
PAGE_ONLY = (QUICK, CHANGED, REVIEWED)

ASK_MESSAGE = "Please ask them first: has anything changed since last time?"
REVIEW_MESSAGE = (
    "You said something has changed: go through the questions below (they show last time's "
    "answers), change what is different now, then start."
)


@dataclass(frozen=True)
class LastTime:
    """Last time's screening answers, in words for the page and as form values."""

    when: str  # "30 Nov 2026"
    yes: list[str]  # question ids answered yes
    local: list[str]  # "region:kind" problems in one spot
    said_yes: list[str]  # those questions in a few words
    spots: list[str]  # those problems in words


def last_time(profile: ProfileRecord) -> LastTime | None:
    """The profile's saved answers, or None when it has none (then every question is asked).
    Anything the questions no longer know is dropped rather than shown as a code."""
    saved = profile.data.get("screening")
    if not isinstance(saved, dict):
        return None
    questions = {question.id: question.label for question in screening_questions()}
    yes = [q for q in saved.get("yes", []) if isinstance(q, str) and q in questions]
    local: list[str] = []
    spots: list[str] = []
    for text in saved.get("local", []):
        try:
            problem = parse_local_problem(str(text))
        except BackrubError:
            continue
        local.append(str(text))
        spots.append(f"{local_check(problem.kind).label}: {region_name(problem.region)}")
    try:
        when = datetime.fromisoformat(str(saved.get("at"))).strftime("%-d %b %Y")
    except ValueError:
        when = "an earlier session"
    return LastTime(when, yes, local, [questions[q] for q in yes], spots)


def page_fields(data: dict[str, Any]) -> dict[str, str]:
    """The quick path's own fields, taken out of a submitted form's data (changes `data`)."""
    return {name: str(data.pop(name, "") or "") for name in PAGE_ONLY}


def quick_error(fields: dict[str, str]) -> str | None:
    """Why the session cannot start yet on the quick path, or None. Without an answer to the one
    question nothing starts; a "yes" starts only once the full questions have been shown."""
    if fields.get(QUICK) != "1":
        return None
    changed = fields.get(CHANGED)
    if changed not in ("no", "yes"):
        return ASK_MESSAGE
    if changed == "yes" and fields.get(REVIEWED) != "1":
        return REVIEW_MESSAGE
    return None
