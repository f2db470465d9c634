"""Rules about knot work: the ladder up to the elbow, its bound, and the aftercare (U6-U9)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

from backrub.method.step import Step
from backrub.method.vocabulary import Contact, PressureLevel, Technique
from backrub.safety.context import AFTERCARE_MIN_SECONDS, SafetyContext
from backrub.safety.rule import FoldedRule, Rule, Tracker, touches_upper_trapezius
from backrub.safety.violation import Violation


def _is_knot_work(step: Step) -> bool:
    return step.knot and step.technique is not Technique.MILD_RUBBING


def _run_from(steps: Sequence[Step], index: int) -> tuple[int, list[Step], bool]:
    """The knot worked from `steps[index]`: the index just after its last knot step, its knot
    steps, and whether a step done next could still add to it (it reaches the end)."""
    step = steps[index]
    run = [step]
    end = index + 1
    gap = end
    while end < len(steps):
        gap = end
        while (
            gap < len(steps)
            and not _is_knot_work(steps[gap])
            and steps[gap].regions == step.regions
            and sum(s.seconds for s in steps[end : gap + 1]) < AFTERCARE_MIN_SECONDS
        ):
            gap += 1
        resumes = gap < len(steps) and _is_knot_work(steps[gap])
        if resumes and steps[gap].regions == step.regions:
            run.append(steps[gap])
            end = gap + 1
            gap = end
        else:
            break
    return end, run, gap >= len(steps)


def knot_runs(steps: Sequence[Step]) -> Iterator[tuple[int, list[Step]]]:
    """Each knot worked rung by rung: (index just after its last knot step, its knot steps).

    A pause on the same spot shorter than real aftercare does not end the knot: resuming
    after a few seconds' rub is still the same knot, and still counts toward its bound (U8).
    """
    index = 0
    while index < len(steps):
        if not _is_knot_work(steps[index]):
            index += 1
            continue
        end, run, _open = _run_from(steps, index)
        yield end, run
        index = end


def open_from(steps: Sequence[Step]) -> int:
    """Where the knot a next step could still change begins; len(steps) if none can be.

    Every earlier knot, and its follow-up, is settled: no step done later changes what U8 and
    U9 say about it.
    """
    index = 0
    start = len(steps)
    while index < len(steps):
        if not _is_knot_work(steps[index]):
            index += 1
            continue
        end, _run, still_open = _run_from(steps, index)
        start = index if still_open else len(steps)
        index = end
    return start


class _OpenKnotTracker:
    """Keeps only the steps from the knot still open on: what a next step can change.

    The rule's verdict on a next step is its verdict on (open steps + step) less its verdict on
    the open steps alone; the settled knots before them cancel out, so they are not kept."""

    __slots__ = ("open", "rule")

    def __init__(self, rule: Rule, open_steps: Sequence[Step] = ()) -> None:
        self.rule = rule
        self.open = list(open_steps)

    def added(self, step: Step, context: SafetyContext) -> Iterator[Violation]:
        if not self.open:
            # No knot open (the usual case, asked on every step): nothing earlier to take
            # away, and a step that is not knot work starts none, so it adds nothing.
            if not _is_knot_work(step):
                return iter(())
            return self.rule.check_sequence([step], context)
        return self._added_to_open(step, context)

    def _added_to_open(self, step: Step, context: SafetyContext) -> Iterator[Violation]:
        earlier = list(self.rule.check_sequence(self.open, context))
        if not earlier:
            # Nothing to take away (the usual case): no counting needed, asked on every step.
            yield from self.rule.check_sequence([*self.open, step], context)
            return
        before = Counter(earlier)
        for violation in self.rule.check_sequence([*self.open, step], context):
            if before[violation] > 0:
                before[violation] -= 1
            else:
                yield violation

    def push(self, step: Step, context: SafetyContext) -> None:
        self.extend((step,), context)

    def extend(self, steps: Sequence[Step], context: SafetyContext) -> None:
        # Trimming once at the end keeps the same steps as trimming after each one: a knot
        # settled stays settled, and what follows it is read the same either way.
        if not self.open and not any(_is_knot_work(step) for step in steps):
            return  # no knot open and none started: nothing to keep (the usual case)
        self.open.extend(steps)
        del self.open[: open_from(self.open)]

    def copy(self) -> Tracker:
        return _OpenKnotTracker(self.rule, self.open)


def _taken_out(step: Step, context: SafetyContext) -> bool:
    excluded = context.restrictions.excluded_regions
    stopped = context.upper_trapezius_stopped and touches_upper_trapezius(step, context)
    return stopped or any(region in excluded for region in step.regions)


class ElbowOnlyAtTheTopOfTheLadder(FoldedRule[Step | None]):
    id = "U6"
    title = "elbow only after the knot ladder reached it and the receiver accepted"
    method_ids = ("U6",)

    def start(self) -> Step | None:
        return None

    def summarize(self, before: Step | None, step: Step, context: SafetyContext) -> Step | None:
        return step  # only the step just before matters

    def judge_next(
        self, step: Step, before: Step | None, context: SafetyContext
    ) -> Iterator[Violation]:
        if step.contact is not Contact.ELBOW:
            return
        if not step.consent:
            yield self.violation(step, "elbow without the receiver accepting it")
        reached = (
            before is not None
            and before.knot
            and before.regions == step.regions
            and before.contact in (Contact.FOREARM, Contact.ELBOW)
        )
        if not (step.knot and reached):
            yield self.violation(
                step, "elbow must follow the forearm rung of a knot ladder on the same spot"
            )


class ElbowStartsAtFortyFiveDegrees(FoldedRule[Step | None]):
    id = "U7"
    title = "the elbow starts bent at about 45 degrees (firm, not deep)"
    method_ids = ("U7",)

    def start(self) -> Step | None:
        return None

    def summarize(self, before: Step | None, step: Step, context: SafetyContext) -> Step | None:
        return step

    def judge_next(
        self, step: Step, before: Step | None, context: SafetyContext
    ) -> Iterator[Violation]:
        if step.contact is not Contact.ELBOW or step.pressure <= PressureLevel.FIRM:
            return
        if before is None or before.contact is not Contact.ELBOW:
            yield self.violation(
                step,
                f"elbow starts at pressure {int(step.pressure)}; start at 4 (arm at "
                "about 45 degrees) and bend further only after that",
            )


class KnotWorkIsBounded(Rule):
    id = "U8"
    title = "knot work bounded to about two minutes"
    method_ids = ("U8",)

    def check_sequence(self, steps: Sequence[Step], context: SafetyContext) -> Iterator[Violation]:
        for _end, run in knot_runs(steps):
            total = sum(step.seconds for step in run)
            if total > context.knot_limit_seconds + 0.5:
                yield self.violation(
                    run[-1],
                    f"{total:.0f} s on one knot; at most {context.knot_limit_seconds:.0f} s",
                )

    def tracker(self) -> Tracker:
        return _OpenKnotTracker(self)


class AftercareAfterKnot(Rule):
    id = "U9"
    title = "after knot work, mild rubbing on the same spot"
    method_ids = ("U9",)

    def check_sequence(self, steps: Sequence[Step], context: SafetyContext) -> Iterator[Violation]:
        for after, run in knot_runs(steps):
            follow = steps[after] if after < len(steps) else None
            if follow is None and not context.require_closing:
                continue
            if _taken_out(run[0], context):
                # The spot itself was taken out (pain, headache): no more work there at all.
                continue
            if (
                follow is None
                or follow.technique not in (Technique.MILD_RUBBING, Technique.KNEADING)
                or follow.pressure > PressureLevel.LIGHT
                or not set(run[0].regions) <= set(follow.regions)
            ):
                yield self.violation(
                    run[-1], "knot work must be followed by light rubbing on the same spot"
                )

    def tracker(self) -> Tracker:
        return _OpenKnotTracker(self)
