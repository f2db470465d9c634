"""What past sessions teach the next plan: per-region starting pressure, knots that keep coming
back, and regions that were painful or ticklish more than once.

Pure and deterministic, like the rest of the planner: it reads plain digests of past sessions
(`SessionDigest`, built from a replayed event log by `backrub.session.digest`) and returns
`Lessons`; the planner applies them (planner.lessons) within every rule and screening cap and
lists each change in the plan's notes with the sessions it comes from.

The learning, in words:
- Every `more`, `less`, `felt`, pain and first tickle on a region during the middle phases' own
  (non-knot) pressing work says where the pressure should have been: one level up (`more`, a
  `felt` below the band, a first tickle: L1 tries more pressure first), one down (`less`, a
  `felt` above the band), two down (pain, as the engine does), or just right (a `felt` in the
  band). A session's last word on a region is where it landed in that session.
- The sessions' landings are averaged, each session counting half as much as the next newer one,
  and rounded to a level: that region's starting pressure next time.
- A knot found on the same region in two or more sessions makes that region a problem-first
  spot: worked as a trouble spot, its area first and its extra work early in that area.
- A region painful twice or more is planned one level lighter (left for later in its area when
  it is already as light as it goes); a region ticklish twice or more is left for later in its
  area (L1: come back to it once the rest has relaxed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from backrub.atlas import Atlas, Tissue
from backrub.method.vocabulary import PhaseKind, PressureLevel, Technique

AGE_FACTOR = 0.5  # each older session counts half as much as the next newer one
RECURRING_SESSIONS = 2  # a knot found in this many sessions "came back"
TWICE = 2  # pain or tickle reports on a region before it is planned lighter or later
SHORT_ID = 8  # characters of a session id shown in notes (`backrub show` takes a prefix)
# A trend says "faster" or "slower" only past this difference in seconds on the knot.
TREND_SECONDS = 10.0
MIDDLE = frozenset({PhaseKind.NECK.value, PhaseKind.UPPER_BACK.value, PhaseKind.LOWER_BACK.value})
_PRESSING = frozenset(
    {
        Technique.KNEADING.value,
        Technique.CIRCLES.value,
        Technique.STATIC_PRESSURE.value,
        Technique.PALM_COMPRESSION.value,
    }
)
_LEARNED_FROM = frozenset({"more", "less", "felt", "pain", "ticklish"})


@dataclass(frozen=True)
class Feedback:
    """One piece of feedback as it fell on one region: what, when, and the work at that moment.

    `at` is seconds since the session started; `pressure` the step's level then; `band` the 0-10
    range the receiver should have felt; `value` the 0-10 answer of a `felt`."""

    region: str
    kind: str
    at: float
    pressure: int
    phase: str
    technique: str
    knot: bool = False
    value: int | None = None
    band: tuple[int, int] = (3, 5)


@dataclass(frozen=True)
class KnotOutcome:
    """A knot of one session: where, how it ended (released, bounded, ...) and its time on it."""

    region: str
    outcome: str
    seconds: float


@dataclass(frozen=True)
class SessionDigest:
    """What one past session tells the planner, in plain data."""

    session_id: str
    started_at: datetime
    feedback: tuple[Feedback, ...] = ()
    knots: tuple[KnotOutcome, ...] = ()

    @property
    def short_id(self) -> str:
        return self.session_id[:SHORT_ID]


@dataclass(frozen=True)
class StartPressure:
    """A region's learned starting pressure and, newest first, each session's landing there."""

    region: str
    level: int
    landings: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Repeated:
    """A region where something happened more than once, and the sessions (newest first)."""

    region: str
    sessions: tuple[str, ...]
    times: int


@dataclass(frozen=True)
class Lessons:
    start: Mapping[str, StartPressure] = field(default_factory=dict)
    recurring_knots: tuple[Repeated, ...] = ()
    painful: tuple[Repeated, ...] = ()
    ticklish: tuple[Repeated, ...] = ()

    @property
    def levels(self) -> dict[str, int]:
        return {region: learned.level for region, learned in self.start.items()}


@dataclass(frozen=True)
class KnotTrend:
    """How a knot that came back ended each time (newest first), and which way it is going."""

    region: str
    entries: tuple[tuple[str, str, float], ...]  # (session id, outcome, seconds)
    trend: str  # "faster", "slower", "same", "released now", "not released now", "not released"


def newest_first(history: Iterable[SessionDigest]) -> list[SessionDigest]:
    return sorted(history, key=lambda d: (d.started_at, d.session_id), reverse=True)


def landing(item: Feedback) -> int | None:
    """Where this feedback says the pressure should have been, or None when it says nothing."""
    step = {"more": 1, "less": -1, "pain": -2, "ticklish": 1}.get(item.kind)
    if item.kind == "felt" and item.value is not None:
        low, high = item.band
        step = 1 if item.value < low else -1 if item.value > high else 0
    if step is None:
        return None
    return max(int(PressureLevel.FEATHER), min(int(PressureLevel.DEEP), item.pressure + step))


def _teaches_pressure(item: Feedback) -> bool:
    return (
        item.kind in _LEARNED_FROM
        and item.phase in MIDDLE
        and item.technique in _PRESSING
        and not item.knot
    )


def _round(value: float) -> int:
    return int(value + 0.5)  # half up, the same on every machine


def learn(history: Iterable[SessionDigest], atlas: Atlas) -> Lessons:
    """The lessons of these past sessions for the next plan."""
    sessions = newest_first(history)
    weighted: dict[str, list[tuple[float, int]]] = defaultdict(list)
    landings: dict[str, list[tuple[str, int]]] = defaultdict(list)
    pains: dict[str, list[str]] = defaultdict(list)
    tickles: dict[str, list[str]] = defaultdict(list)
    knots: dict[str, list[str]] = defaultdict(list)
    for age, digest in enumerate(sessions):
        last: dict[str, int] = {}
        tickled: set[str] = set()
        for item in sorted(digest.feedback, key=lambda f: f.at):
            if not atlas.has_region(item.region):
                continue
            if item.kind == "pain":
                pains[item.region].append(digest.short_id)
            first_tickle = item.kind == "ticklish" and item.region not in tickled
            if item.kind == "ticklish":
                tickles[item.region].append(digest.short_id)
                tickled.add(item.region)
            level = landing(item)
            if level is None or not _teaches_pressure(item):
                continue
            if item.kind == "ticklish" and not first_tickle:
                continue  # a tickle again means "move on", not "firmer" (L1)
            last[item.region] = level
        for region, level in last.items():
            weighted[region].append((AGE_FACTOR**age, level))
            landings[region].append((digest.short_id, level))
        for knot in digest.knots:
            if atlas.has_region(knot.region) and digest.short_id not in knots[knot.region]:
                knots[knot.region].append(digest.short_id)
    start = {
        region: StartPressure(
            region=region,
            level=_round(sum(w * level for w, level in pairs) / sum(w for w, _ in pairs)),
            landings=tuple(landings[region]),
        )
        for region, pairs in sorted(weighted.items())
    }
    recurring = tuple(
        Repeated(region, tuple(ids), len(ids))
        for region, ids in sorted(knots.items())
        if len(ids) >= RECURRING_SESSIONS and atlas.region(region).tissue is Tissue.MUSCLE
    )
    return Lessons(
        start=start,
        recurring_knots=recurring,
        painful=_repeated(pains),
        ticklish=_repeated(tickles),
    )


def _repeated(reports: Mapping[str, list[str]]) -> tuple[Repeated, ...]:
    return tuple(
        Repeated(region, tuple(dict.fromkeys(ids)), len(ids))
        for region, ids in sorted(reports.items())
        if len(ids) >= TWICE
    )


def knot_trends(history: Iterable[SessionDigest], atlas: Atlas) -> list[KnotTrend]:
    """For each region where a knot came back, how it ended each time and the trend.

    The trend compares the newest two sessions with a knot there: both released, "faster" or
    "slower" by at least TREND_SECONDS (else "same"); released only now, "released now"; only
    before, "not released now"; neither, "not released". A session with several knots on the
    region counts its quickest release (or, without one, its first knot)."""
    per_region: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    for digest in newest_first(history):
        found: dict[str, KnotOutcome] = {}
        for knot in digest.knots:
            if not atlas.has_region(knot.region):
                continue
            best = found.get(knot.region)
            if best is None or (
                knot.outcome == "released"
                and (best.outcome != "released" or knot.seconds < best.seconds)
            ):
                found[knot.region] = knot
        for region, knot in found.items():
            per_region[region].append((digest.session_id, knot.outcome, round(knot.seconds, 1)))
    trends = []
    for region, entries in sorted(per_region.items()):
        if len(entries) < RECURRING_SESSIONS:
            continue
        (_, new_outcome, new_seconds), (_, old_outcome, old_seconds) = entries[0], entries[1]
        new_released, old_released = new_outcome == "released", old_outcome == "released"
        if new_released and old_released:
            difference = new_seconds - old_seconds
            trend = (
                "faster"
                if difference <= -TREND_SECONDS
                else "slower"
                if difference >= TREND_SECONDS
                else "same"
            )
        elif new_released:
            trend = "released now"
        elif old_released:
            trend = "not released now"
        else:
            trend = "not released"
        trends.append(KnotTrend(region=region, entries=tuple(entries), trend=trend))
    return trends
