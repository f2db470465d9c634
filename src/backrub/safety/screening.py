"""Screening before a massage (METHOD.md X5): the questions asked of the receiver, and what the
answers mean: go, go with changes (regions, pressure or techniques taken out), or refuse."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Self, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import core_schema

from backrub.atlas import Area, Atlas, default_atlas
from backrub.datafile import shipped
from backrub.errors import BackrubError, UnknownNameError
from backrub.method.ids import METHOD_ELEMENTS
from backrub.method.vocabulary import Contact, PressureLevel, Technique
from backrub.safety.restrictions import Restrictions

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler

__all__ = [
    "Category",
    "Finding",
    "LocalCheck",
    "LocalProblem",
    "LocalProblemKind",
    "Outcome",
    "Question",
    "ScreeningAnswers",
    "ScreeningResult",
    "evaluate",
    "local_check",
    "local_checks",
    "parse_local_problem",
    "question",
    "screening_questions",
]

_SOURCE = "backrub/safety/screening.toml"
_SCREENING_ELEMENT = "X5"

KebabId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Outcome(StrEnum):
    """What the answers allow, from least to most severe (declaration order is severity order)."""

    GO = "go"
    GO_WITH_CHANGES = "go-with-changes"
    SEE_PROFESSIONAL = "see-professional"
    NOT_TODAY = "not-today"

    @property
    def severity(self) -> int:
        return list(Outcome).index(self)

    @property
    def heading(self) -> str:
        """The outcome as a person reads it at the top of a summary."""
        return _HEADINGS[self]


_HEADINGS = {
    Outcome.GO: "Go",
    Outcome.GO_WITH_CHANGES: "Go with changes",
    Outcome.SEE_PROFESSIONAL: "See a doctor or a licensed massage therapist first",
    Outcome.NOT_TODAY: "Not today",
}


class Category(StrEnum):
    """Groups of questions, so a front end can ask them in a sensible order."""

    EMERGENCY = "emergency"
    TODAY = "today"
    HEART_AND_CIRCULATION = "heart-and-circulation"
    LUNGS = "lungs"
    PREGNANCY = "pregnancy"
    CANCER = "cancer"
    MEDICINE = "medicine"
    BONES_AND_JOINTS = "bones-and-joints"
    NERVES = "nerves"
    INJURY_AND_SURGERY = "injury-and-surgery"
    GENERAL = "general"


class LocalProblemKind(StrEnum):
    """A problem in one spot of the back: that spot is left out, the rest of the back is fine."""

    BRUISE = "bruise"
    SKIN_INFECTION = "skin-infection"
    SWELLING = "swelling"
    VARICOSE_VEINS = "varicose-veins"
    SUNBURN = "sunburn"
    RECENT_INJURY = "recent-injury"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def _check_method_ids(ids: tuple[str, ...]) -> None:
    unknown = [element for element in ids if element not in METHOD_ELEMENTS]
    if unknown:
        raise ValueError(f"unknown method element(s): {', '.join(unknown)}")
    # Every screening entry exists to carry out X5; one without it is a slip in the file.
    if _SCREENING_ELEMENT not in ids:
        raise ValueError(f"screening entries must carry the method element {_SCREENING_ELEMENT}")


class Question(_Strict):
    """One yes/no question; a yes leads to its outcome, shown with its reason."""

    id: KebabId
    label: Text
    text: Text
    outcome: Outcome
    reason: Text
    category: Category
    ids: tuple[str, ...]
    emergency: bool = False
    max_pressure: PressureLevel | None = None
    remove_techniques: tuple[Technique, ...] = ()
    remove_contacts: tuple[Contact, ...] = ()
    exclude_areas: tuple[Area, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _check_method_ids(self.ids)
        if self.outcome is Outcome.GO:
            raise ValueError("a yes must change something: the outcome cannot be 'go'")
        if self.emergency and self.outcome is not Outcome.NOT_TODAY:
            raise ValueError("an emergency question must have the outcome 'not-today'")
        if self.outcome is Outcome.GO_WITH_CHANGES and not self.changes_anything:
            raise ValueError(
                "a 'go-with-changes' question needs max_pressure, remove_techniques, "
                "remove_contacts or exclude_areas"
            )
        if self.outcome is not Outcome.GO_WITH_CHANGES and self.changes_anything:
            # A refused session has nothing to adjust; changes there would never be applied.
            raise ValueError("only a 'go-with-changes' question can list changes")
        return self

    @property
    def changes_anything(self) -> bool:
        return bool(
            self.max_pressure is not None
            or self.remove_techniques
            or self.remove_contacts
            or self.exclude_areas
        )


class LocalCheck(_Strict):
    """The question for one kind of local problem, answered with the regions where it is."""

    kind: LocalProblemKind
    label: Text
    text: Text
    reason: Text
    ids: tuple[str, ...]

    @model_validator(mode="after")
    def _known_ids(self) -> Self:
        _check_method_ids(self.ids)
        return self


class ScreeningFile(_Strict):
    version: Annotated[int, Field(ge=1, le=1)]
    question: tuple[Question, ...]
    local: tuple[LocalCheck, ...]

    @model_validator(mode="after")
    def _complete(self) -> Self:
        ids = [q.id for q in self.question]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"question ids used twice: {', '.join(repeated)}")
        kinds = [check.kind for check in self.local]
        missing = [kind.value for kind in LocalProblemKind if kind not in kinds]
        if missing or len(kinds) != len(set(kinds)):
            raise ValueError(
                "give exactly one [[local]] entry per kind; "
                f"kinds: {', '.join(LocalProblemKind)}"
                + (f" (missing: {', '.join(missing)})" if missing else "")
            )
        return self


class LocalProblem(_Strict):
    """A local problem where it is: `upper-trapezius-left` + `bruise`."""

    region: KebabId
    kind: LocalProblemKind

    def __str__(self) -> str:
        return f"{self.region}:{self.kind}"


class _Sorted:
    """Written out sorted: a set's order changes from one process to the next (string hashing
    is salted); sorted, the same answers always print, store and compare as the same text.
    (A serializer in the field's schema, as `field_serializer` would make it, without loading
    pydantic's serializer module, which costs a plan on the command line ~3% of its start.)"""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        serialization = core_schema.plain_serializer_function_ser_schema(
            sorted, return_schema=core_schema.list_schema(core_schema.str_schema())
        )
        return cast("core_schema.CoreSchema", {**handler(source), "serialization": serialization})


class ScreeningAnswers(_Strict):
    """The receiver's answers: the ids of questions answered yes, and any local problems."""

    yes: Annotated[frozenset[str], _Sorted] = frozenset()
    local: tuple[LocalProblem, ...] = ()


class Finding(_Strict):
    """One answer that matters, with its outcome, the reason to show and what it changes."""

    question: str | None = None  # the question id; None for a local problem
    kind: LocalProblemKind | None = None  # the local problem kind; None for a question
    label: str
    outcome: Outcome
    reason: str
    emergency: bool = False
    regions: tuple[str, ...] = ()
    max_pressure: PressureLevel | None = None
    removed_techniques: tuple[Technique, ...] = ()
    removed_contacts: tuple[Contact, ...] = ()

    @property
    def cause(self) -> str:
        """The reason with its label in front: merged reasons still say where each comes from."""
        return f"{self.label[:1].upper()}{self.label[1:]}: {self.reason}"


class ScreeningResult(_Strict):
    """The verdict of screening: the most severe outcome, every finding, and what to leave out."""

    outcome: Outcome
    findings: tuple[Finding, ...] = ()
    restrictions: Restrictions = Restrictions()
    emergency: bool = False

    @property
    def allows_session(self) -> bool:
        return self.outcome in (Outcome.GO, Outcome.GO_WITH_CHANGES)

    def summary(self) -> str:
        """One readable line: the verdict, then what led to it."""
        if self.outcome is Outcome.GO:
            return "Go: nothing in the answers stands in the way of a gentle massage."
        if self.outcome is Outcome.GO_WITH_CHANGES:
            return f"{self.outcome.heading}: {'; '.join(_change_phrases(self.findings))}"
        title = self.outcome.heading
        if self.emergency:
            title += ", get medical help now"
        line = f"{title}: {_labels(f for f in self.findings if f.outcome is self.outcome)}"
        lesser = [f for f in self.findings if f.outcome is Outcome.SEE_PROFESSIONAL]
        if self.outcome is Outcome.NOT_TODAY and lesser:
            line += f"; later, see a doctor or therapist first about: {_labels(lesser)}"
        return line


def _labels(findings: Iterable[Finding]) -> str:
    return "; ".join(finding.label for finding in findings)


def _change_phrases(findings: tuple[Finding, ...]) -> list[str]:
    phrases: list[str] = []
    caps = [f.max_pressure for f in findings if f.max_pressure is not None]
    if caps:
        cap = min(caps)
        by = ", ".join(f.label for f in findings if f.max_pressure == cap)
        phrases.append(f"pressure at most {int(cap)}, {cap.word} ({by})")
    for contact in Contact:
        by = ", ".join(f.label for f in findings if contact in f.removed_contacts)
        if by:
            phrases.append(f"no {contact} ({by})")
    for technique in Technique:
        by = ", ".join(f.label for f in findings if technique in f.removed_techniques)
        if by:
            phrases.append(f"no {technique} ({by})")
    phrases.extend(f"leave out {', '.join(f.regions)} ({f.label})" for f in findings if f.regions)
    return phrases


@cache
def _screening_file() -> ScreeningFile:
    # Read once: the file ships with the package and does not change while we run.
    return shipped(ScreeningFile, "backrub.safety", "screening.toml", source=_SOURCE)


@cache
def _questions_by_id() -> dict[str, Question]:
    return {q.id: q for q in _screening_file().question}


def screening_questions() -> tuple[Question, ...]:
    """Every question, in the order to ask them (emergencies first)."""
    return _screening_file().question


def question(question_id: str) -> Question:
    try:
        return _questions_by_id()[question_id]
    except KeyError:
        raise UnknownNameError(
            f"unknown screening question {question_id!r}; known questions: {_known_questions()}"
        ) from None


def local_checks() -> tuple[LocalCheck, ...]:
    """The questions about local problems, one per kind."""
    return _screening_file().local


def local_check(kind: LocalProblemKind) -> LocalCheck:
    return next(check for check in local_checks() if check.kind is kind)


def _known_questions() -> str:
    return ", ".join(_questions_by_id())


def parse_local_problem(text: str, atlas: Atlas | None = None) -> LocalProblem:
    """Read `region:kind` (as typed on a command line), checking both names."""
    atlas = atlas or default_atlas()
    parts = [part.strip() for part in text.split(":")]
    if len(parts) != 2 or not all(parts):
        raise BackrubError(
            f"expected REGION:KIND, such as 'upper-trapezius-left:bruise'; got {text!r}"
        )
    region, kind = parts
    try:
        problem_kind = LocalProblemKind(kind)
    except ValueError:
        raise UnknownNameError(
            f"unknown local problem {kind!r}; known kinds: {', '.join(LocalProblemKind)}"
        ) from None
    atlas.region(region)  # raises UnknownNameError naming the region and the known ones
    return LocalProblem(region=region, kind=problem_kind)


def evaluate(answers: ScreeningAnswers, atlas: Atlas | None = None) -> ScreeningResult:
    """Turn the answers into a verdict. Unknown question ids or regions are refused, not skipped:
    a misspelt answer silently ignored could hide a reason not to massage."""
    if not answers.yes and not answers.local:
        # Nothing answered yes: go, with no need to read the questions (a plan on the command
        # line or the web mostly starts here).
        return ScreeningResult(
            outcome=Outcome.GO, findings=(), restrictions=Restrictions(), emergency=False
        )
    atlas = atlas or default_atlas()
    unknown = sorted(answers.yes - _questions_by_id().keys())
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        raise UnknownNameError(
            f"unknown screening question{'s' if len(unknown) > 1 else ''} {names}; "
            f"known questions: {_known_questions()}"
        )
    for problem in answers.local:
        atlas.region(problem.region)

    findings = [_question_finding(q, atlas) for q in screening_questions() if q.id in answers.yes]
    findings += _local_findings(answers.local, atlas)
    # Most pressing first, so the person reads emergencies and refusals before adjustments;
    # the sort is stable, so within a level the file's order holds.
    findings.sort(key=lambda f: (not f.emergency, -f.outcome.severity))

    outcome = max((f.outcome for f in findings), key=lambda o: o.severity, default=Outcome.GO)
    restrictions = _restrictions(findings) if outcome is Outcome.GO_WITH_CHANGES else Restrictions()
    return ScreeningResult(
        outcome=outcome,
        findings=tuple(findings),
        restrictions=restrictions,
        emergency=any(f.emergency for f in findings),
    )


def _question_finding(q: Question, atlas: Atlas) -> Finding:
    regions = tuple(
        region.id for area in q.exclude_areas for region in atlas.in_area(area, tissue=None)
    )
    return Finding(
        question=q.id,
        label=q.label,
        outcome=q.outcome,
        reason=q.reason,
        emergency=q.emergency,
        regions=regions,
        max_pressure=q.max_pressure,
        removed_techniques=q.remove_techniques,
        removed_contacts=q.remove_contacts,
    )


def _local_findings(problems: tuple[LocalProblem, ...], atlas: Atlas) -> list[Finding]:
    # One finding per kind, its regions in atlas order: the same answers always read the same.
    order = {region_id: index for index, region_id in enumerate(atlas.region_ids)}
    findings = []
    for check in local_checks():
        regions = sorted(
            {p.region for p in problems if p.kind is check.kind}, key=order.__getitem__
        )
        if regions:
            findings.append(
                Finding(
                    kind=check.kind,
                    label=check.label,
                    outcome=Outcome.GO_WITH_CHANGES,
                    reason=check.reason,
                    regions=tuple(regions),
                )
            )
    return findings


def _restrictions(findings: list[Finding]) -> Restrictions:
    """What go-with-changes takes out; a change asked for by several answers lists every cause."""
    caps = [f.max_pressure for f in findings if f.max_pressure is not None]
    cap = min(caps) if caps else None
    region_ids = dict.fromkeys(region for f in findings for region in f.regions)
    techniques = {t for f in findings for t in f.removed_techniques}
    contacts = {c for f in findings for c in f.removed_contacts}
    return Restrictions(
        excluded_regions={
            region: " ".join(f.cause for f in findings if region in f.regions)
            for region in region_ids
        },
        max_pressure=cap,
        max_pressure_reason=" ".join(
            f.cause for f in findings if cap is not None and f.max_pressure == cap
        ),
        # Enum order, not set order: the same answers always give the same restrictions.
        removed_techniques={
            technique: " ".join(f.cause for f in findings if technique in f.removed_techniques)
            for technique in Technique
            if technique in techniques
        },
        removed_contacts={
            contact: " ".join(f.cause for f in findings if contact in f.removed_contacts)
            for contact in Contact
            if contact in contacts
        },
    )
