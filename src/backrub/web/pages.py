"""The start page: who receives, what they do, where it hurts, screening; then the plan."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from backrub.atlas import Tissue, default_atlas
from backrub.errors import BackrubError
from backrub.method.routine import BUILT_IN_ROUTINES, built_in_routine
from backrub.method.words import vocabulary
from backrub.plain_words import ORDER_WORDS
from backrub.planner import Order
from backrub.planner.activities import activities
from backrub.safety.screening import (
    Category,
    local_checks,
    parse_local_problem,
    screening_questions,
)
from backrub.web.api import hub_of
from backrub.web.auth import Owner
from backrub.web.intake import Intake, field_errors, from_form
from backrub.web.last_time import CHANGED, QUICK, REVIEWED, LastTime, last_time, page_fields
from backrub.web.last_time import quick_error as quick_path_error
from backrub.web.maps import plan_map, tap_map
from backrub.web.people import find_profile, knots_over_time, sore_spots
from backrub.web.starting import Refused, plan_for, screening_json, start_session
from backrub.web.templating import templates

router = APIRouter(include_in_schema=False)

LOCAL_ROWS = 3  # rows for local problems (bruise here, sunburn there) on the start form
# How the error list at the top names a field (the rest: its name with spaces).
FIELD_NAMES = {CHANGED: "anything changed since last time", "yes": "health questions"}


def _pressure_word(level: object) -> str:
    """'medium' for 3; '' for a value the form sent back that is not a level (its error says)."""
    text = str(level)
    return vocabulary().pressure_word(int(text)) if text in ("1", "2", "3", "4", "5") else ""


def _choices() -> dict[str, Any]:
    atlas = default_atlas()
    muscles = [region for region in atlas.regions if region.tissue is Tissue.MUSCLE]
    words = vocabulary()
    questions = screening_questions()
    return {
        "activities": activities(),
        "muscles": muscles,
        "areas": sorted({region.area.value for region in muscles}),
        "pressures": [(level, words.pressure_word(level)) for level in range(1, 6)],
        "orders": list(Order),
        "order_words": ORDER_WORDS,
        "routines": [(name, built_in_routine(name).title) for name in BUILT_IN_ROUTINES],
        "question_groups": [
            (category, [q for q in questions if q.category is category])
            for category in Category
            if any(q.category is category for q in questions)
        ],
        "local_checks": local_checks(),
        "regions": atlas.regions,
        "tap_map": tap_map(),
        # For the groups' one-line summaries and the quick path's "as last time".
        "pressure_word": _pressure_word,
        "order_words_by_value": {order.value: ORDER_WORDS[order][0] for order in Order},
        "names_of": lambda ids: [atlas.region(i).name for i in ids if atlas.has_region(i)],
        "activity_names": lambda keys: [activities()[k].label for k in keys if k in activities()],
        "field_names": FIELD_NAMES,
    }


def _local_rows(texts: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """Local problems as (kind, region) rows of the form, so going back shows each one where it
    was picked, plus blank rows; a text that does not parse is kept as it came, for its error."""
    rows: list[tuple[str, str]] = []
    kept: list[str] = []
    for text in texts:
        try:
            problem = parse_local_problem(text)
        except BackrubError:
            kept.append(text)
            continue
        rows.append((problem.kind.value, problem.region))
    rows += [("", "")] * max(0, LOCAL_ROWS - len(rows))
    return rows, kept


def _start_page(
    request: Request,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    *,
    account: int | None,
    status: int = 200,
    notice: str | None = None,
    last: LastTime | None = None,
) -> HTMLResponse:
    store = hub_of(request).store
    rows, kept = _local_rows(values.get("local", []))
    if last is None and values.get(QUICK) == "1" and values.get("profile_id"):
        # A form sent back (an error, "Change the answers"): the question asked stays asked.
        last = _last_time_of(request, values["profile_id"], account=account)
    context = {
        **_choices(),
        "local_rows": rows,
        "local_kept": kept,
        "values": values,
        "errors": errors or {},
        "profiles": store.profiles(account=account),
        "notice": notice,
        "last": last,
    }
    return templates.TemplateResponse(request, "start.html", context, status_code=status)


def _last_time_of(request: Request, profile_id: Any, *, account: int | None) -> LastTime | None:
    try:
        profile = find_profile(hub_of(request).store, int(profile_id), account=account)
    except (ValueError, BackrubError):
        return None  # the form's own error for profile_id says what is wrong
    return last_time(profile)


def _defaults(
    request: Request, profile_id: int | None, *, account: int | None
) -> tuple[dict[str, Any], str | None, LastTime | None]:
    values: dict[str, Any] = Intake().model_dump(mode="json")
    if profile_id is None:
        return values, None, None
    store = hub_of(request).store
    profile = find_profile(store, profile_id, account=account)
    values.update({k: v for k, v in profile.data.items() if k in values})
    values["profile_id"] = profile.id
    values["profile_name"] = profile.name
    last = last_time(profile)
    if last is not None:
        # Last time's answers go back into the form, ticked as they were.
        values.update({"yes": last.yes, "local": last.local, QUICK: "1"})
    over_time = knots_over_time(store, profile.id, account=account)
    recurring = list(over_time["counts"])
    values["trouble_spots"] = list(dict.fromkeys([*values["trouble_spots"], *recurring]))[:6]
    values["sore_spots"] = sore_spots(profile)
    parts = [f"Starting from {profile.name}'s last choices."]
    if recurring:
        parts.append("Knots found in past sessions are ticked as trouble spots.")
    if values["sore_spots"]:
        parts.append("Sore spots from the check-in get one level less pressure.")
    if over_time["sessions"]:
        parts.append("The plan learns from their past sessions; its notes say what it changed.")
    return values, " ".join(parts), last


@router.get("/", response_class=HTMLResponse)
def start(
    request: Request,
    account: Owner,
    profile: int | None = None,
    receiver: int | None = None,
    swap: str | None = None,
) -> Response:
    """The start page; `?receiver=ID` (or the older `?profile=ID`) starts from a saved receiver."""
    values, notice, last = _defaults(request, receiver or profile, account=account)
    if swap:
        # G4: the receiver gives back. A short, gentle routine, and screening asked afresh.
        values.update({"minutes": 10, "routine": "neck-and-shoulders", "pressure": 2})
        values.update({"yes": [], "local": [], QUICK: ""})
        last = None
        notice = (
            "Swap roles: now the giver receives. Answer the questions for them, "
            "then follow the same guidance."
        )
    return _start_page(request, values, account=account, notice=notice, last=last)


async def _answers(request: Request) -> dict[str, Any]:
    """The submitted form as the start page's values; local problems as `region:kind`."""
    form = await request.form()
    pairs = [(key, str(value)) for key, value in form.multi_items()]
    data = from_form(pairs)
    data.update({name: str(form.get(name, "")) for name in (QUICK, CHANGED, REVIEWED)})
    regions = [value for key, value in pairs if key == "local_region"]
    kinds = [value for key, value in pairs if key == "local_kind"]
    data["local"] += [f"{r}:{k}" for r, k in zip(regions, kinds, strict=False) if r and k]
    data["local"] = list(dict.fromkeys(data["local"]))
    return data


async def _intake(request: Request) -> tuple[dict[str, Any], Intake | dict[str, str]]:
    data = await _answers(request)
    fields = page_fields(data)
    try:
        intake = Intake.model_validate(data)
    except ValidationError as error:
        return {**data, **fields}, field_errors(error)
    data.update(fields)
    return data, intake


def _not_asked(data: dict[str, Any]) -> dict[str, str] | None:
    """The quick path's error when "anything changed?" was not answered (or a yes not gone
    through); the session neither plans nor starts until it is."""
    message = quick_path_error(
        {name: str(data.get(name, "")) for name in (QUICK, CHANGED, REVIEWED)}
    )
    return {CHANGED: message} if message else None


def _reviewing(data: dict[str, Any]) -> dict[str, Any]:
    """The form sent back after "yes, something changed": its questions are now on screen."""
    return {**data, REVIEWED: "1"} if data.get(CHANGED) == "yes" else data


@router.post("/answers", response_class=HTMLResponse)
async def answers_again(request: Request, account: Owner) -> Response:
    """'Change the answers' on the plan: the start page again with every answer as it was."""
    data = await _answers(request)
    form = await request.form()
    if data.get(CHANGED) == "yes" or form.get("show") == "questions":
        data[REVIEWED] = "1"  # "See all questions" without a script: the questions open
    return _start_page(request, data, account=account)


@router.post("/plan", response_class=HTMLResponse)
async def preview(request: Request, account: Owner) -> Response:
    data, intake = await _intake(request)
    if not isinstance(intake, Intake):
        return _start_page(request, data, intake, account=account, status=422)
    not_asked = _not_asked(data)
    if not_asked:
        return _start_page(request, _reviewing(data), not_asked, account=account, status=422)
    try:
        planned = plan_for(hub_of(request).store, intake, account=account)
    except BackrubError as error:
        errors = {error.where or "form": error.message}
        return _start_page(request, data, errors, account=account, status=422)
    plan = planned.plan
    context = {
        "plan": plan,
        "steps": plan.to_json()["steps"],
        "screening": screening_json(plan),
        "intake": intake,
        "quick": {name: data.get(name, "") for name in (QUICK, CHANGED, REVIEWED)},
        "map": plan_map(plan) if plan.steps else "",
    }
    return templates.TemplateResponse(request, "plan.html", context)


@router.post("/session", response_class=HTMLResponse)
async def begin(request: Request, account: Owner) -> Response:
    data, intake = await _intake(request)
    if not isinstance(intake, Intake):
        return _start_page(request, data, intake, account=account, status=422)
    not_asked = _not_asked(data)
    if not_asked:
        return _start_page(request, _reviewing(data), not_asked, account=account, status=422)
    try:
        session_id = start_session(hub_of(request), intake, account=account)
    except Refused as refused:
        errors = {"yes": refused.message}
        return _start_page(request, data, errors, account=account, status=409)
    except BackrubError as error:
        errors = {error.where or "form": error.message}
        return _start_page(request, data, errors, account=account, status=422)
    return RedirectResponse(f"/session/{session_id}", status_code=303)
