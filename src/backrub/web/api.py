"""The JSON API the pages use (and anyone else may): described by the app's OpenAPI document.

Every route on profiles and sessions takes the `Owner` dependency (None in local mode; the
logged-in account in hosted mode) and passes it on as `account=`: another account's ids get the
same 404 as ids that do not exist.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from backrub.atlas import default_atlas
from backrub.errors import BackrubError
from backrub.method.routine import BUILT_IN_ROUTINES, built_in_routine
from backrub.method.words import vocabulary
from backrub.planner import Order
from backrub.planner.activities import activities
from backrub.safety.screening import LocalProblemKind, local_checks, screening_questions
from backrub.session import EventKind
from backrub.session.events import TAKES_REGION
from backrub.session.summary import summarize, timeline
from backrub.store import AlreadyStored
from backrub.store.records import PRESS_ID_PATTERN
from backrub.web.auth import Owner
from backrub.web.device_time import DeviceTimeRefused, press_age
from backrub.web.errors import ERROR_RESPONSES, problem
from backrub.web.hub import Conflict, Hub
from backrub.web.intake import NAME_MAX, Intake, ProfileName, muscles
from backrub.web.live_stream import live_messages
from backrub.web.maps import session_map, step_map
from backrub.web.people import (
    find_profile,
    find_session,
    knots_over_time,
    profile_json,
    remember,
    save_check_in,
    session_json,
)
from backrub.web.replies import FiniteJSONRoute
from backrub.web.starting import Refused, plan_for, screening_json, start_session

# Milliseconds since 1970: the year 3000 is later than any device clock means.
DEVICE_CLOCK_MAX = 32_503_680_000_000

router = APIRouter(prefix="/api", responses=ERROR_RESPONSES, route_class=FiniteJSONRoute)


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


class EventIn(BaseModel):
    """Feedback from a device. The server stamps the time; a press the device kept while
    offline may say how long ago it was made (device_time.py), within bounds."""

    model_config = ConfigDict(extra="forbid")

    kind: EventKind
    region: Annotated[str, Field(max_length=NAME_MAX)] | None = None
    # validate_default: a 'felt' event without a value must be refused, not pass as None.
    value: Annotated[int, Field(ge=0, le=10)] | None = Field(default=None, validate_default=True)
    # Who pressed: "remote" from the receiver's remote. The engine acts the same either way;
    # the live state's `press` carries it so the giver's page can say what the receiver asked.
    source: Literal["page", "remote"] = "page"
    # A press kept while the device was offline: when it was made and when it is sent, by the
    # device's clock (milliseconds since 1970). See device_time.py for the bounds.
    device_time: Annotated[float, Field(ge=0, le=DEVICE_CLOCK_MAX)] | None = None
    device_now: Annotated[float, Field(ge=0, le=DEVICE_CLOCK_MAX)] | None = None
    # The device's own id for this press, the same on every try of it: a press that arrives
    # again (its reply was lost, the device sent it once more) is logged once. Optional.
    press_id: Annotated[str, Field(pattern=PRESS_ID_PATTERN)] | None = None

    @field_validator("kind")
    @classmethod
    def _sent_by_devices(cls, kind: EventKind) -> EventKind:
        if kind is EventKind.TICK:
            raise ValueError("'tick' is the server's own save point; devices cannot send it")
        if kind is EventKind.END:
            raise ValueError("'end' is logged when the session finishes; devices cannot send it")
        return kind

    # Checked field by field (not on the whole body) so a reply names the field that is wrong.
    @field_validator("region", mode="after")
    @classmethod
    def _region(cls, region: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if region is not None and kind not in TAKES_REGION:
            raise ValueError(f"only a 'knot' or 'pain' event takes a region, not {kind!s}")
        if region is not None and not default_atlas().has_region(region):
            raise ValueError(f"unknown region {region!r}")
        return region

    @field_validator("value", mode="after")
    @classmethod
    def _value(cls, value: int | None, info: ValidationInfo) -> int | None:
        kind = info.data.get("kind")
        if kind is EventKind.FELT and value is None:
            raise ValueError("a 'felt' event needs a value from 0 to 10")
        if kind is not EventKind.FELT and value is not None:
            raise ValueError(f"only a 'felt' event takes a value, not {kind!s}")
        return value


class ProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[ProfileName, Field(min_length=1)]


class CheckInIn(BaseModel):
    """The next-day check-in: sore where? An empty list means no soreness."""

    model_config = ConfigDict(extra="forbid")

    regions: list[str] = []

    @field_validator("regions")
    @classmethod
    def _muscles(cls, regions: list[str]) -> list[str]:
        return muscles(regions)  # the same check as the start form's


@router.get("/options", summary="Everything the start form offers")
def options() -> dict[str, Any]:
    words = vocabulary()
    return {
        "activities": [{"id": key, "label": item.label} for key, item in activities().items()],
        "questions": [
            {
                "id": q.id,
                "label": q.label,
                "text": q.text,
                "category": q.category.value,
                "outcome": q.outcome.value,
            }
            for q in screening_questions()
        ],
        "local_problems": [
            {"kind": check.kind.value, "label": check.label, "text": check.text}
            for check in local_checks()
        ],
        "local_kinds": [kind.value for kind in LocalProblemKind],
        "orders": [order.value for order in Order],
        "pressures": [
            {"level": level, "word": words.pressure_word(level), "like": words.pressure_like(level)}
            for level in range(1, 6)
        ],
        "routines": [
            {"id": name, "title": built_in_routine(name).title} for name in BUILT_IN_ROUTINES
        ],
    }


@router.get("/atlas", summary="The back's regions")
def atlas() -> dict[str, Any]:
    return {
        "regions": [
            {
                "id": region.id,
                "name": region.name,
                "side": region.side.value,
                "tissue": region.tissue.value,
                "area": region.area.value,
            }
            for region in default_atlas().regions
        ]
    }


@router.get("/profiles", summary="Saved receivers")
def list_profiles(request: Request, account: Owner) -> list[dict[str, Any]]:
    return [profile_json(record) for record in hub_of(request).store.profiles(account=account)]


@router.post("/profiles", status_code=201, summary="Save a receiver")
def create_profile(request: Request, body: ProfileIn, account: Owner) -> dict[str, Any]:
    store = hub_of(request).store
    try:
        store.profile(body.name, account=account)
    except BackrubError:
        return profile_json(remember(store, body.name, {}, account=account))
    raise Conflict(f"a profile named {body.name!r} already exists", where="name")


@router.get("/profiles/{profile_id}", summary="A receiver, with knots over time")
def get_profile(request: Request, profile_id: int, account: Owner) -> dict[str, Any]:
    store = hub_of(request).store
    record = find_profile(store, profile_id, account=account)
    knots = knots_over_time(store, profile_id, account=account)
    return {**profile_json(record), "knots_over_time": knots}


@router.post("/profiles/{profile_id}/check-ins", status_code=201, summary="Next-day check-in")
def check_in(request: Request, profile_id: int, body: CheckInIn, account: Owner) -> dict[str, Any]:
    store = hub_of(request).store
    record = find_profile(store, profile_id, account=account)
    return profile_json(save_check_in(store, record, body.regions, account=account))


@router.post("/plans", summary="Plan a session (nothing is saved)")
def make_a_plan(request: Request, body: Intake, account: Owner) -> dict[str, Any]:
    planned = plan_for(hub_of(request).store, body, account=account)
    return {"screening": screening_json(planned.plan), "plan": planned.plan.to_json()}


@router.post("/sessions", status_code=201, summary="Plan and start a session")
def create_session(request: Request, body: Intake, account: Owner) -> Any:
    hub = hub_of(request)
    try:
        session_id = start_session(hub, body, account=account)
    except Refused as refused:
        return problem(409, refused.message, field="yes", screening=screening_json(refused.plan))
    _, state = hub.state(session_id, account=account)
    return {"id": session_id, "url": f"/session/{session_id}", "state": state}


@router.get("/sessions", summary="Past and running sessions, newest first")
def list_sessions(
    request: Request,
    account: Owner,
    profile_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    store = hub_of(request).store
    records = store.sessions(limit, profile_id=profile_id, account=account)
    return [session_json(record) for record in records]


@router.get("/sessions/{session_id}", summary="The live state of a session")
def get_session(request: Request, session_id: str, account: Owner) -> dict[str, Any]:
    _, state = hub_of(request).state(session_id, account=account)
    return state


@router.get(
    "/sessions/{session_id}/map.svg",
    summary="The back map with the current step drawn",
    response_class=Response,
)
def get_session_map(request: Request, session_id: str, account: Owner) -> Response:
    followed = hub_of(request).followed(session_id, account=account)
    with followed.lock:
        svg = session_map(followed.run.engine)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get(
    "/sessions/{session_id}/step-map.svg",
    summary="Only the current step's part of the map: its stroke, the hand, waiting knots",
    response_class=Response,
)
def get_step_map(request: Request, session_id: str, account: Owner) -> Response:
    """The live page has the whole map already: on a step change it fetches only this (a few
    hundred bytes) and lights the step's regions itself."""
    followed = hub_of(request).followed(session_id, account=account)
    with followed.lock:
        svg = step_map(followed.run.engine)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


def pressed(hub: Hub, session_id: str, body: EventIn, account: int | None, age: float) -> str:
    """Give a device's press to the hub; the session just after it, as JSON text. Both press
    routes take a press this way (this one in the stack, web/hot_routes.py's in front of it)."""
    return hub.send_json(
        session_id,
        body.kind,
        region=body.region,
        value=body.value,
        account=account,
        source=body.source,
        age=age,
        press_id=body.press_id,
    )


@router.post("/sessions/{session_id}/events", summary="Feedback: more, less, ouch, knot here...")
def send_event(request: Request, session_id: str, body: EventIn, account: Owner) -> Any:
    hub = hub_of(request)
    try:
        age = press_age(body.device_time, body.device_now)
    except DeviceTimeRefused as refused:
        field = refused.where or "device_time"
        detail = {"field": field, "message": refused.message}
        return problem(422, f"{field}: {refused.message}", field=field, details=[detail])
    try:
        # The state as JSON text, the very copy the live streams send (not encoded again here).
        text = pressed(hub, session_id, body, account, age)
    except AlreadyStored:
        # This press was stored at an earlier try whose reply never reached the device: the
        # same answer as then (the session with it), and nothing logged twice.
        _, state = hub.state(session_id, account=account)
        return state
    return Response(text, media_type="application/json")


@router.get(
    "/sessions/{session_id}/stream",
    summary="Server-sent events: the state each time it changes",
    response_class=StreamingResponse,
)
async def stream(request: Request, session_id: str, account: Owner) -> StreamingResponse:
    hub = hub_of(request)
    # 404 before the stream starts (another account's session too).
    await run_in_threadpool(lambda: hub.followed(session_id, account=account))

    # The messages, shared with the lean route in front of the app (hot_routes.py). No look for
    # a disconnect in them: the streaming response watches for it and cancels the loop.
    return StreamingResponse(
        live_messages(hub, session_id, account=account),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/sessions/{session_id}/summary", summary="A session in retrospect")
def get_summary(request: Request, session_id: str, account: Owner) -> JSONResponse:
    hub = hub_of(request)
    record = find_session(hub.store, session_id, account=account)
    followed = hub.followed(session_id, account=account)
    with followed.lock:
        engine = followed.run.engine
        body = {
            "session": session_json(record),
            "summary": record.summary or summarize(engine),
            "timeline": timeline(engine),
        }
    return JSONResponse(body)
