"""Looking back: a session's summary, the history, a receiver's profile and a printable plan.

Every page here only reads, except the next-day check-in form, which is checked by the same rules
as the API's (`Intake`'s sore spots) and saved through `people.save_check_in`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from backrub.atlas import Side, Tissue, default_atlas
from backrub.atlas.model import Region
from backrub.live import plan_of
from backrub.method.routine import BUILT_IN_ROUTINES, built_in_routine
from backrub.method.words import vocabulary
from backrub.plain_words import in_words as _readable
from backrub.plain_words import order_name
from backrub.plain_words import region_name as _region_name
from backrub.planner.activities import activities
from backrub.planner.history import knot_trends
from backrub.render import render_back_map
from backrub.session import verdicts
from backrub.session.cues import CueBook
from backrub.session.summary import summarize
from backrub.store import ProfileRecord, SessionRecord, Store
from backrub.store.history import receiver_history
from backrub.web.api import hub_of
from backrub.web.auth import Owner
from backrub.web.hub import NotFound
from backrub.web.intake import Intake, field_errors
from backrub.web.maps import MAP_WIDTH, TEXT_SCALE, coverage, heat_map, plan_map, tap_map
from backrub.web.people import (
    find_profile,
    find_session,
    knots_over_time,
    save_check_in,
    sore_spots,
)
from backrub.web.print_plan import printed_steps, setup_items
from backrub.web.starting import screening_json
from backrub.web.templating import clock, templates

router = APIRouter(include_in_schema=False)

SESSION_ID = re.compile(r"[0-9a-f]{32}")  # uuid4().hex, as the store makes them
PROFILE_ID = re.compile(r"[1-9][0-9]{0,17}")
HISTORY_LIMIT = 100  # sessions on the history page
PROFILE_SESSIONS = 50  # sessions on a profile page
MIN_SHOWN_SECONDS = 0.5  # regions worked for less are left out of the time table

STATUS_WORDS = {"running": "Running now", "finished": "Finished", "stopped": "Stopped early"}
# What each knot outcome (docs/session-json.md) means, in a few plain words.
KNOT_OUTCOMES = {
    "released": ("Released", "It let go."),
    "bounded": ("Still tight", "Worked for the full two minutes; it may need another session."),
    "interrupted": ("Cut short", "Work on it stopped before it was done."),
    "gentle": ("Gentle only", "Not a place for deep work, so only gentle circles."),
    "noted": ("Noted", "Found, but there was no time left to work on it."),
    "not reached": ("Not reached", "Noted in the warm-up; the session ended before it came up."),
}
# The giver's care (G2, G3), in the routine's own words when it has them; ours otherwise.
CARE_KEYS = {
    "water": "Have a drink of water: giving a massage is hard work.",
    "cold-water": "When you are done, run cold water over your hands and forearms.",
}
SWAP_FALLBACK = "Now you know the moves: show your friend, and swap places."


# ------------------------------------------------------------------------------ small helpers


def _not_found(request: Request, what: str) -> HTMLResponse:
    return templates.TemplateResponse(request, "not_found.html", {"what": what}, status_code=404)


def _when(moment: datetime) -> str:
    """A stored time (UTC) as this machine's local date and time: 'Tue 4 Mar 2025, 14:05'."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone()
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def _day(text: str) -> str:
    """'2025-03-04' -> 'Tue 4 Mar 2025' (a stored day, shown as it is)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return text
    return f"{day.day} {day:%b %Y}"


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _minutes(value: object) -> str:
    """20.0 -> '20'; 7.5 -> '7.5'; anything else -> '-'."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{float(value):g}"
    return "-"


def _short_name(region: Region) -> str:
    """The name without its '(left)' / '(right)' ending, for tables with a side column."""
    return region.name.removesuffix(f" ({region.side.value})")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _pressure_word(mean: float) -> str:
    level = min(5, max(1, round(mean)))
    return vocabulary().pressure_word(level)


def _valid_session_id(session_id: str) -> bool:
    return SESSION_ID.fullmatch(session_id) is not None


def _profile_id(text: str) -> int | None:
    return int(text) if PROFILE_ID.fullmatch(text) else None


def _profile_names(store: Store, account: int | None) -> dict[int, str]:
    return {record.id: record.name for record in store.profiles(account=account)}


def _session_row(record: SessionRecord, names: Mapping[int, str]) -> dict[str, Any]:
    request = record.plan.get("request", {})
    summary = record.summary or {}
    receiver = names.get(record.profile_id) if record.profile_id is not None else None
    return {
        "id": record.id,
        "when": _when(record.created_at),
        "iso": record.created_at.isoformat(),
        "receiver": receiver or request.get("receiver") or "",
        "profile_id": record.profile_id if receiver else None,
        "minutes": _minutes(request.get("minutes")),
        "worked": clock(summary["worked_seconds"]) if "worked_seconds" in summary else None,
        "status": record.status,
        "status_word": STATUS_WORDS.get(record.status, record.status),
    }


# ------------------------------------------------------------------------------ the summary


def _care(routine_id: str) -> tuple[list[dict[str, str]], str]:
    """The giver's care reminders and the swap-roles line, as the session's cue book words them.

    The engine's book looks in the plan's routine first and the classic routine after it."""
    book = CueBook(routine_id)
    routines = [book.routine]
    if book.routine.id != "classic":
        routines.append(built_in_routine("classic"))

    def lookup(key: str) -> tuple[str, str] | None:
        for routine in routines:
            found = routine.cue(key)
            if found is not None:
                return found.text, found.how
        return None

    care = []
    for key, fallback in CARE_KEYS.items():
        text, how = lookup(key) or (fallback, "")
        care.append({"key": key, "text": text, "how": how})
    swap = lookup("swap-roles")
    return care, swap[0] if swap else SWAP_FALLBACK


def _sides(summary: Mapping[str, Any]) -> dict[str, Any]:
    """Left against right in words, from the times as the tables show them."""
    seconds = summary.get("per_side_seconds", {})
    midline = float(seconds.get(Side.MIDLINE.value, 0.0))
    # Summaries stored before the comparison was part of them get it worked out here.
    compared = summary.get("sides") or verdicts.sides(summary, default_atlas())
    left, right, even = int(compared["left"]), int(compared["right"]), bool(compared["even"])
    verdict, uneven = verdicts.sides_in_words(compared, default_atlas())
    return {
        "rows": [("Left", left), ("Right", right), ("Midline (on the spine line)", midline)],
        "even": even and not uneven,
        "verdict": verdict,
        "uneven": uneven,
        "lighter": None if even else ("left" if left < right else "right"),
        "gap": abs(left - right),
    }


def _not_reached(summary: Mapping[str, Any], status: str) -> dict[str, Any] | None:
    """What a session that stopped early did not get to, in words; None when it ran to its end
    (or is still running)."""
    if status != "stopped":
        return None
    found = summary.get("not_reached")
    if not isinstance(found, Mapping):
        return {"phases": [], "steps": [], "unknown": True}  # stored before it was listed
    phases, steps = verdicts.not_reached_in_words(found, default_atlas())
    return {"phases": phases, "steps": steps, "unknown": False}


def _region_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Time and mean pressure per region, top of the back first, left before right."""
    regions = summary.get("regions", {})
    rows = []
    for region in default_atlas().regions:
        values = regions.get(region.id)
        if not values or float(values.get("seconds", 0.0)) < MIN_SHOWN_SECONDS:
            continue  # skipped at once: nothing a person would call work
        mean = float(values.get("mean_pressure", 0.0))
        rows.append(
            {
                "id": region.id,
                "name": _short_name(region),
                "side": region.side.value,
                "seconds": float(values["seconds"]),
                "mean_pressure": f"{mean:.1f}",
                "pressure_word": _pressure_word(mean),
            }
        )
    return rows


def _knot_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for knot in summary.get("knots", []):
        label, meaning = KNOT_OUTCOMES.get(knot.get("outcome", ""), (knot.get("outcome", ""), ""))
        rows.append(
            {
                "region": knot.get("region", ""),
                "name": _region_name(str(knot.get("region", ""))),
                "found_at": clock(knot.get("found_at")),
                "seconds": clock(knot.get("seconds")),
                "outcome": knot.get("outcome", ""),
                "label": label,
                "meaning": meaning,
            }
        )
    return rows


def _left_out(summary: Mapping[str, Any]) -> list[dict[str, str]]:
    seen: set[tuple[str, str]] = set()
    rows = []
    for item in summary.get("left_out", []):
        key = (str(item.get("region", "")), str(item.get("reason", "")))
        if key in seen:
            continue
        seen.add(key)
        rows.append({"region": key[0], "name": _region_name(key[0]), "reason": _readable(key[1])})
    return rows


def _notes(
    summary: Mapping[str, Any],
    knots: Iterable[Mapping[str, Any]],
    left_out: Iterable[Mapping[str, str]],
    sides: Mapping[str, Any],
    *,
    profile: str | None,
) -> list[str]:
    """The session's own notes in words, and what we would tell the giver for next time."""
    notes = [_sentence(_readable(str(note))) for note in summary.get("notes", [])]
    knots = list(knots)
    if knots:
        places = ", ".join(dict.fromkeys(knot["name"] for knot in knots))
        notes.append(
            f"Knots were found at: {places}. Planning from {profile}'s page ticks them as "
            "trouble spots."
            if profile
            else f"Knots were found at: {places}. Tick them as trouble spots next time."
        )
        if any(knot["outcome"] in ("bounded", "noted", "interrupted") for knot in knots):
            notes.append("Some knots were not done today: start with them next time.")
    for item in left_out:
        reason = item["reason"].lower()
        if "pain" in reason:
            notes.append(f"{item['name']} was too much today: go lighter there next time.")
        elif "headache" in reason or "nausea" in reason:
            notes.append(
                f"{item['name']}: a headache or queasy feeling came with work here. "
                "Keep it light there next time."
            )
    if sides["lighter"] and summary.get("status") != "stopped":
        # (A stop between the two halves of a pair is not something to make up next time.)
        notes.append(f"Next time, give the {sides['lighter']} side a little more time.")
    notes.append("Tomorrow, ask how their back feels. Sore spots get a lighter touch next time.")
    return list(dict.fromkeys(notes))


@router.get("/session/{session_id}/summary", response_class=HTMLResponse)
def session_summary(request: Request, session_id: str, account: Owner) -> Response:
    if not _valid_session_id(session_id):
        return _not_found(request, "session")
    hub = hub_of(request)
    try:
        record = find_session(hub.store, session_id, account=account)
        if record.running:
            # Let the clock run: it may have ended since anyone looked.
            hub.state(session_id, account=account)
            record = find_session(hub.store, session_id, account=account)
        plan = plan_of(record)
        summary: dict[str, Any]
        if record.summary is not None:
            summary = record.summary
        else:
            followed = hub.followed(session_id, account=account)
            with followed.lock:
                summary = summarize(followed.run.engine)
    except NotFound:
        return _not_found(request, "session")
    names = _profile_names(hub.store, account)
    profile_name = names.get(record.profile_id) if record.profile_id is not None else None
    receiver = profile_name or plan.request.receiver
    sides = _sides(summary)
    knots = _knot_rows(summary)
    left_out = _left_out(summary)
    care, swap = _care(plan.routine_id)
    heat = coverage(summary)
    context = {
        "session": _session_row(record, names),
        "running": record.running,
        "receiver": receiver,
        "profile_id": record.profile_id if profile_name else None,
        "plan": plan,
        "summary": summary,
        "budget": clock(summary.get("budget_seconds", plan.budget_seconds)),
        "worked": clock(summary.get("worked_seconds", 0.0)),
        "map": heat_map(heat, title="Where the hands went, and how firmly") if heat else "",
        "regions": _region_rows(summary),
        "sides": sides,
        "knots": knots,
        "left_out": left_out,
        "not_reached": _not_reached(summary, record.status),
        "removed": [
            {"technique": technique.replace("-", " "), "reason": _readable(str(reason))}
            for technique, reason in summary.get("removed_techniques", {}).items()
        ],
        "notes": _notes(summary, knots, left_out, sides, profile=profile_name),
        "care": care,
        "swap": swap,
    }
    return templates.TemplateResponse(request, "summary.html", context)


# ------------------------------------------------------------------------------ printable plan


@router.get("/session/{session_id}/plan", response_class=HTMLResponse)
def printable_plan(request: Request, session_id: str, account: Owner) -> Response:
    if not _valid_session_id(session_id):
        return _not_found(request, "session")
    store = hub_of(request).store
    try:
        record = find_session(store, session_id, account=account)
    except NotFound:
        return _not_found(request, "session")
    plan = plan_of(record)
    steps = plan.to_json()["steps"]
    context = {
        "session": _session_row(record, _profile_names(store, account)),
        "plan": plan,
        "steps": steps,
        "rows": printed_steps(steps),  # with how-to and picture, alike sides in one row
        "setup": setup_items(plan.routine_id),
        "screening": screening_json(plan),
        "map": plan_map(plan) if plan.steps else "",
    }
    return templates.TemplateResponse(request, "print.html", context)


# ------------------------------------------------------------------------------ history


@router.get("/history", response_class=HTMLResponse)
def history(request: Request, account: Owner) -> Response:
    store = hub_of(request).store
    profiles = store.profiles(account=account)
    names = {record.id: record.name for record in profiles}
    records = store.sessions(HISTORY_LIMIT, account=account)
    sessions = [_session_row(record, names) for record in records]
    context = {"sessions": sessions, "profiles": profiles, "limit": HISTORY_LIMIT}
    return templates.TemplateResponse(request, "history.html", context)


# ------------------------------------------------------------------------------ profiles


def _muscles() -> list[Region]:
    return [region for region in default_atlas().regions if region.tissue is Tissue.MUSCLE]


def _preferences(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A profile's saved start-form choices, as label and value in words."""
    shown: list[tuple[str, str]] = []
    if "minutes" in data:
        shown.append(("Minutes", _minutes(data["minutes"])))
    pressure = data.get("pressure")
    if isinstance(pressure, int) and 1 <= pressure <= 5:
        shown.append(("Pressure they like", f"{pressure} · {vocabulary().pressure_word(pressure)}"))
    if isinstance(data.get("order"), str):
        shown.append(("Order", order_name(data["order"])))
    routine = data.get("routine")
    if isinstance(routine, str):
        title = built_in_routine(routine).title if routine in BUILT_IN_ROUTINES else routine
        shown.append(("Routine", title))
    known = activities()
    chosen = [known[key].label for key in data.get("activities", []) if key in known]
    shown.append(("What they do a lot", ", ".join(chosen) or "Nothing picked"))
    return shown


def _trouble_spots(data: Mapping[str, Any]) -> list[str]:
    atlas = default_atlas()
    spots = data.get("trouble_spots", [])
    return [spot for spot in spots if isinstance(spot, str) and atlas.has_region(spot)]


def _check_ins(store: Store, record: ProfileRecord) -> list[dict[str, Any]]:
    rows = []
    for item in reversed(record.data.get("check_ins", [])):
        at = _parse_time(item.get("at"))
        regions = [r for r in item.get("regions", []) if isinstance(r, str)]
        used_by = item.get("used_by")
        rows.append(
            {
                "when": _when(at) if at else "-",
                "iso": at.isoformat() if at else "",
                "regions": [_region_name(r) for r in regions],
                "used_by": used_by if isinstance(used_by, str) else None,
            }
        )
    return rows


# How a knot that came back is going, in words (planner.history.KnotTrend.trend).
TREND_WORDS = {
    "faster": "released faster",
    "slower": "released slower",
    "same": "released in about the same time",
    "released now": "released last time, not the time before",
    "not released now": "not released last time, though it was the time before",
    "not released": "not released yet",
}


def _knot_trends(store: Store, record: ProfileRecord, *, account: int | None) -> list[Any]:
    """Knots that came back in the receiver's recent sessions, and which way they are going."""
    history = receiver_history(store, record.id, account=account)
    rows = []
    for trend in knot_trends(history, default_atlas()):
        (_, new_outcome, new_seconds), (_, old_outcome, old_seconds) = trend.entries[:2]
        rows.append(
            {
                "region": trend.region,
                "name": _region_name(trend.region),
                "trend": trend.trend,
                "words": TREND_WORDS[trend.trend],
                "sessions": len(trend.entries),
                "last": _knot_time(new_outcome, new_seconds),
                "before": _knot_time(old_outcome, old_seconds),
            }
        )
    return rows


def _knot_time(outcome: str, seconds: float) -> str:
    label = KNOT_OUTCOMES.get(outcome, (outcome, ""))[0].lower()
    return f"{label} after {seconds:.0f} s" if seconds >= 1 else label


def _profile_page(
    request: Request,
    record: ProfileRecord,
    *,
    account: int | None,
    errors: dict[str, str] | None = None,
    ticked: Iterable[str] = (),
    notice: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    store = hub_of(request).store
    over_time = knots_over_time(store, record.id, account=account)
    counts: dict[str, int] = over_time["counts"]
    top = max(counts.values(), default=0)
    trouble = _trouble_spots(record.data)
    knot_map = ""
    if counts or trouble:
        knot_map = render_back_map(
            default_atlas(),
            heat={region: count / top for region, count in counts.items()} if top else {},
            highlight=trouble,
            labels=False,
            width_px=MAP_WIDTH,
            text_scale=TEXT_SCALE,
            title=f"Knots found on {record.name}'s back, and their trouble spots",
        )
    knots = [
        {
            **knot,
            "name": _region_name(knot["region"]),
            "day": _day(str(knot["date"])),
            "label": KNOT_OUTCOMES.get(knot["outcome"], (knot["outcome"], ""))[0],
        }
        for knot in over_time["knots"]
    ]
    names = {record.id: record.name}
    context = {
        "profile": record,
        "preferences": _preferences(record.data),
        "trouble": [_region_name(region) for region in trouble],
        "knot_map": knot_map,
        "knot_counts": sorted(
            ((_region_name(region), count) for region, count in counts.items()),
            key=lambda item: (-item[1], item[0]),
        ),
        "knots": knots,
        "looked_back": over_time["sessions"],
        "knot_trends": _knot_trends(store, record, account=account),
        "sore": [_region_name(region) for region in sore_spots(record)],
        "check_ins": _check_ins(store, record),
        "sessions": [
            _session_row(session, names)
            for session in store.sessions(PROFILE_SESSIONS, profile_id=record.id, account=account)
        ],
        "muscles": _muscles(),
        "tap_map": tap_map(),
        "ticked": set(ticked),
        "errors": errors or {},
        "notice": notice,
    }
    return templates.TemplateResponse(request, "profile.html", context, status_code=status)


@router.get("/profiles/{profile_id}", response_class=HTMLResponse)
def profile(
    request: Request, profile_id: str, account: Owner, checked_in: int | None = None
) -> Response:
    number = _profile_id(profile_id)
    if number is None:
        return _not_found(request, "receiver")
    try:
        record = find_profile(hub_of(request).store, number, account=account)
    except NotFound:
        return _not_found(request, "receiver")
    notice = None
    if checked_in:
        sore = [_region_name(region) for region in sore_spots(record)]
        notice = (
            "Check-in saved. The next plan will be one level lighter on: " + ", ".join(sore) + "."
            if sore
            else "Check-in saved: no soreness. Good to hear."
        )
    return _profile_page(request, record, account=account, notice=notice)


@router.post("/profiles/{profile_id}/check-in", response_class=HTMLResponse)
async def check_in(request: Request, profile_id: str, account: Owner) -> Response:
    number = _profile_id(profile_id)
    if number is None:
        return _not_found(request, "receiver")
    store = hub_of(request).store
    try:
        record = find_profile(store, number, account=account)
    except NotFound:
        return _not_found(request, "receiver")
    form = await request.form()
    regions = [str(value).strip() for value in form.getlist("regions") if str(value).strip()]
    try:
        # The same check as the start form's and the API's sore spots.
        checked = Intake(sore_spots=regions).sore_spots
    except ValidationError as error:
        message = field_errors(error).get("sore_spots", "Please pick places on the back.")
        errors = {"regions": message}
        return _profile_page(
            request, record, account=account, errors=errors, ticked=regions, status=422
        )
    save_check_in(store, record, checked, account=account)
    return RedirectResponse(f"/profiles/{record.id}?checked_in=1", status_code=303)
