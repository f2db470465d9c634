"""What the start form and the API take in to plan a session, checked field by field.

One model serves both: the JSON API validates a body with it, and the HTML form is turned into
the same fields, so a bad value gets the same message in both, named by its field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from backrub.atlas import Tissue, default_atlas
from backrub.errors import BackrubError
from backrub.method.vocabulary import PressureLevel
from backrub.planner import MAX_MINUTES, MIN_MINUTES, Order, PlanRequest
from backrub.planner.activities import activities
from backrub.safety.screening import (
    LocalProblem,
    ScreeningAnswers,
    parse_local_problem,
    screening_questions,
)

RoutineName = Literal["classic", "neck-and-shoulders"]
NAME_MAX = 100
# Field names as the form and the API spell them; the order the start page shows them in.
FIELDS = (
    "profile_name",
    "activities",
    "trouble_spots",
    "minutes",
    "pressure",
    "order",
    "routine",
    "yes",
    "local",
    "sore_spots",
)


def no_nul(text: str) -> str:
    """A name as typed, but never with a NUL character: PostgreSQL cannot store one, and the
    SQLite store must answer the same."""
    if "\x00" in text:
        raise ValueError("must not contain the NUL character (\\x00)")
    return text


# A receiver's name, as the start form, the API's profiles and the store take it.
ProfileName = Annotated[str, Field(max_length=NAME_MAX), AfterValidator(no_nul)]


def muscles(names: list[str]) -> list[str]:
    """Region ids that are muscles (the only places to name as trouble or sore), once each."""
    atlas = default_atlas()
    for name in names:
        if not atlas.has_region(name):
            raise ValueError(f"unknown region {name!r}")
        if atlas.region(name).tissue is not Tissue.MUSCLE:
            raise ValueError(f"{atlas.region(name).name} is never pressed; pick a muscle")
    return list(dict.fromkeys(names))


class Intake(BaseModel):
    """Everything needed to plan: who, what they do, where it hurts, how long and how firm."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    profile_id: int | None = None
    profile_name: ProfileName = ""
    minutes: Annotated[float, Field(ge=MIN_MINUTES, le=MAX_MINUTES, allow_inf_nan=False)] = 20
    activities: list[str] = []
    trouble_spots: list[str] = []
    sore_spots: list[str] = []
    pressure: Annotated[int, Field(ge=1, le=5)] = 3
    order: Order = Order.TOP_DOWN
    routine: RoutineName = "classic"
    yes: list[str] = []
    local: list[str] = []

    @field_validator("activities")
    @classmethod
    def _known_activities(cls, names: list[str]) -> list[str]:
        unknown = [name for name in names if name not in activities()]
        if unknown:
            raise ValueError(f"unknown activity {unknown[0]!r}")
        return list(dict.fromkeys(names))

    @field_validator("trouble_spots", "sore_spots")
    @classmethod
    def _muscles(cls, names: list[str]) -> list[str]:
        return muscles(names)

    @field_validator("yes")
    @classmethod
    def _known_questions(cls, ids: list[str]) -> list[str]:
        known = {question.id for question in screening_questions()}
        unknown = [question_id for question_id in ids if question_id not in known]
        if unknown:
            raise ValueError(f"unknown screening question {unknown[0]!r}")
        return list(dict.fromkeys(ids))

    @field_validator("local")
    @classmethod
    def _local_problems(cls, texts: list[str]) -> list[str]:
        for text in texts:
            try:
                parse_local_problem(text)
            except BackrubError as error:
                # The atlas's own message lists every region; the field only needs the name.
                raise ValueError(error.message.split("; known")[0]) from None
        return list(dict.fromkeys(texts))

    def local_problems(self) -> tuple[LocalProblem, ...]:
        return tuple(parse_local_problem(text) for text in self.local)

    def plan_request(self, *, receiver: str | None = None) -> PlanRequest:
        return PlanRequest(
            minutes=self.minutes,
            activities=tuple(self.activities),
            trouble_spots=tuple(self.trouble_spots),
            sore_spots=tuple(self.sore_spots),
            pressure=PressureLevel(self.pressure),
            order=self.order,
            routine=self.routine,
            screening=ScreeningAnswers(yes=frozenset(self.yes), local=self.local_problems()),
            receiver=receiver or self.profile_name or None,
        )

    def remembered(self) -> dict[str, Any]:
        """What a profile keeps for next time: the preferences, not today's answers."""
        return {
            "activities": self.activities,
            "trouble_spots": self.trouble_spots,
            "minutes": self.minutes,
            "pressure": self.pressure,
            "order": self.order.value,
            "routine": self.routine,
        }


MINUTES_MESSAGE = f"Please give a number between {MIN_MINUTES:g} and {MAX_MINUTES:g} minutes."


def field_errors(error: ValidationError) -> dict[str, str]:
    """The first message for each field, keyed by the field's name as the form spells it."""
    found: dict[str, str] = {}
    for item in error.errors(include_url=False):
        field = str(item["loc"][0]) if item["loc"] else "form"
        message = str(item["msg"]).removeprefix("Value error, ")
        if field == "minutes":
            message = MINUTES_MESSAGE  # our words, not the validator's "less than or equal to"
        found.setdefault(field, message)
    return found


LIST_FIELDS = frozenset({"activities", "trouble_spots", "sore_spots", "yes", "local"})


def from_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """A submitted form (repeated keys for lists) as the mapping the Intake model reads."""
    data: dict[str, Any] = {name: [] for name in LIST_FIELDS}
    for key, value in pairs:
        if key in LIST_FIELDS:
            if value.strip():
                data[key].append(value.strip())
        elif key == "profile_id":
            data[key] = value or None
        elif key in FIELDS:
            data[key] = value
    return data
