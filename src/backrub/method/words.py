"""Loads the vocabulary file: words for pressure levels, and each contact's pressure range."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backrub.datafile import shipped
from backrub.method.vocabulary import Contact, PressureLevel, Technique

Level = Annotated[int, Field(ge=1, le=5)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class PressureWord(_Strict):
    word: str
    feel: str
    like: str  # an everyday comparison: "leaning on a table with both hands"


class ContactInfo(_Strict):
    name: str
    min: Level
    max: Level
    how: str

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            raise ValueError("min must not be above max")
        return self

    def fits(self, pressure: int) -> bool:
        return self.min <= pressure <= self.max

    def clamp(self, pressure: int) -> PressureLevel:
        return PressureLevel(max(self.min, min(self.max, pressure)))


class TechniqueInfo(_Strict):
    name: str
    how: str


class Vocabulary(_Strict):
    version: Annotated[int, Field(ge=1, le=1)]
    pressure: dict[str, PressureWord]
    contact: dict[Contact, ContactInfo]
    technique: dict[Technique, TechniqueInfo]

    @model_validator(mode="after")
    def _complete(self) -> Self:
        missing = [c.value for c in Contact if c not in self.contact]
        missing += [t.value for t in Technique if t not in self.technique]
        missing += [str(p.value) for p in PressureLevel if str(p.value) not in self.pressure]
        if missing:
            raise ValueError(f"missing entries for: {', '.join(missing)}")
        return self

    def pressure_word(self, level: int) -> str:
        return self.pressure[str(level)].word

    def pressure_like(self, level: int) -> str:
        return self.pressure[str(level)].like


@cache
def vocabulary() -> Vocabulary:
    source = "backrub/method/vocabulary.toml"
    return shipped(Vocabulary, "backrub.method", "vocabulary.toml", source=source)


def contact_info(contact: Contact) -> ContactInfo:
    return vocabulary().contact[contact]
