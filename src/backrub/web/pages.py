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
from backrub.web.maps import plan_map, tap_map
from backrub.web.people import find_profile, knots_over_time, sore_spots
from backrub.web.plan_words import ORDER_WORDS
from backrub.web.starting import Refused, plan_for, screening_json, start_session
from backrub.web.templating import templates

router = APIRouter(include_in_schema=False)

LOCAL_ROWS = 3  # rows for local problems (bruise here, sunburn there) on the start form


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
) -> HTMLResponse:
    store = hub_of(request).store
    rows, kept = _local_rows(values.get("local", []))
    context = {
        **_choices(),
        "local_rows": rows,
        "local_kept": kept,
        "values": values,
        "errors": errors or {},
        "profiles": store.profiles(account=account),
        "notice": notice,
    }
    return templates.TemplateResponse(request, "start.html", context, status_code=status)


def _defaults(
    request: Request, profile_id: int | None, *, account: int | None
) -> tuple[dict[str, Any], str | None]:
    values: dict[str, Any] = Intake().model_dump(mode="json")
    if profile_id is None:
        return values, None
    store = hub_of(request).store
    profile = find_profile(store, profile_id, account=account)
    values.update({k: v for k, v in profile.data.items() if k in values})
    values["profile_id"] = profile.id
    values["profile_name"] = profile.name
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
    return values, " ".join(parts)


@router.get("/", response_class=HTMLResponse)
def start(
    request: Request, account: Owner, profile: int | None = None, swap: str | None = None
) -> Response:
    values, notice = _defaults(request, profile, account=account)
    if swap:
        # G4: the receiver gives back. A short, gentle routine, and screening asked afresh.
        values.update({"minutes": 10, "routine": "neck-and-shoulders", "pressure": 2})
        notice = (
            "Swap roles: now the giver receives. Answer the questions for them, "
            "then follow the same guidance."
        )
    return _start_page(request, values, account=account, notice=notice)


async def _answers(request: Request) -> dict[str, Any]:
    """The submitted form as the start page's values; local problems as `region:kind`."""
    form = await request.form()
    pairs = [(key, str(value)) for key, value in form.multi_items()]
    data = from_form(pairs)
    regions = [value for key, value in pairs if key == "local_region"]
    kinds = [value for key, value in pairs if key == "local_kind"]
    data["local"] += [f"{r}:{k}" for r, k in zip(regions, kinds, strict=False) if r and k]
    data["local"] = list(dict.fromkeys(data["local"]))
    return data


async def _intake(request: Request) -> tuple[dict[str, Any], Intake | dict[str, str]]:
    data = await _answers(request)
    try:
        return data, Intake.model_validate(data)
    except ValidationError as error:
        return data, field_errors(error)


@router.post("/answers", response_class=HTMLResponse)
async def answers_again(request: Request, account: Owner) -> Response:
    """'Change the answers' on the plan: the start page again with every answer as it was."""
    return _start_page(request, await _answers(request), account=account)


@router.post("/plan", response_class=HTMLResponse)
async def preview(request: Request, account: Owner) -> Response:
    data, intake = await _intake(request)
    if not isinstance(intake, Intake):
        return _start_page(request, data, intake, account=account, status=422)
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
        "map": plan_map(plan) if plan.steps else "",
    }
    return templates.TemplateResponse(request, "plan.html", context)


@router.post("/session", response_class=HTMLResponse)
async def begin(request: Request, account: Owner) -> Response:
    data, intake = await _intake(request)
    if not isinstance(intake, Intake):
        return _start_page(request, data, intake, account=account, status=422)
    try:
        session_id = start_session(hub_of(request), intake, account=account)
    except Refused as refused:
        errors = {"yes": refused.message}
        return _start_page(request, data, errors, account=account, status=409)
    except BackrubError as error:
        errors = {error.where or "form": error.message}
        return _start_page(request, data, errors, account=account, status=422)
    return RedirectResponse(f"/session/{session_id}", status_code=303)
