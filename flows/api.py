"""Staff JSON APIs: paper questionnaires into the record, and events with their registrations.

Bad input is a 400 naming the field and what is wrong, and nothing is saved. A paper questionnaire
is kept only when the staff member confirms the resident signed the paper consent form
(`"paper_consent": true`); its safety item is acted on either way, since safety never waits for consent.
"""
from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy import func, select

from bot.appkeys import SERVICES
from bot.auth import current_user, require_role
from bot.models import Resident
from bot import consent
from flows.event_input import EventInputError, apply_event_fields
from flows.models import Event, Registration
from flows.record import save_assessment
from flows.safety.scale_item import safety_item_on_paper

log = logging.getLogger(__name__)

STAFF = ("counsellor", "supervisor", "admin")


def bad(message: str, status: int = 400, **more: object) -> web.HTTPException:
    kind = {400: web.HTTPBadRequest, 404: web.HTTPNotFound}[status]
    return kind(text=web.json_response({"error": message, **more}).text, content_type="application/json")


async def json_body(request: web.Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise bad("the body must be JSON") from None
    if not isinstance(body, dict):
        raise bad("the body must be a JSON object")
    return body


# -- paper questionnaires ------------------------------------------------------------------------
@require_role(*STAFF)
async def post_assessment(request: web.Request) -> web.Response:
    body = await json_body(request)
    services = request.app[SERVICES]
    knowledge = services.knowledge
    try:
        scale = knowledge.scales.get(str(body.get("scale", "")))
    except ValueError as exc:
        raise bad(str(exc)) from None
    answers = body.get("answers")
    if not isinstance(answers, list):
        raise bad(f"'answers' must be a list of {len(scale.items)} whole numbers, as the form numbers them")
    try:
        result = scale.score(answers)
    except ValueError as exc:
        raise bad(str(exc)) from None
    resident_id = await _resident_id(services, body)
    user = await current_user(request)
    case_id = None
    if result.safety_positive:  # the case first: a retry after either step fails ends with one form, one case
        case_id = await safety_item_on_paper(services, resident_id, scale, answers)
        log.info("paper safety item: case", extra={"scale": scale.id, "case_id": case_id, "staff_id": user.id})
    if body.get("paper_consent") is not True:
        opened = {"case_id": case_id} if case_id is not None else {}  # the refusal still names the case
        raise bad("'paper_consent' must be true, confirming the resident (or, under 14, a guardian) signed the "
                  "paper consent form; nothing was saved", **opened)
    await consent.record(services, resident_id, consent.PAPER_FORM, consent.notice_version(knowledge.texts),
                         detail=scale.id, channel="paper", staff_id=user.id)
    row = await save_assessment(services, resident_id, result, answers, source="paper", entered_by=user.id)
    return web.json_response({"id": row.id, "resident_id": resident_id, **result.as_dict(), "case_id": case_id},
                             status=201)


async def _resident_id(services, body: dict) -> int:
    openid, resident_id = body.get("openid"), body.get("resident_id")
    if (openid is None) == (resident_id is None):
        raise bad("give exactly one of 'openid' or 'resident_id'")
    if resident_id is not None and (isinstance(resident_id, bool) or not isinstance(resident_id, int)):
        raise bad("'resident_id' must be a whole number")
    if openid is not None and (not isinstance(openid, str) or not openid):
        raise bad("'openid' must be text")
    query = select(Resident.id).where(Resident.id == resident_id if openid is None else Resident.openid == openid)
    async with services.db() as session:
        found = await session.scalar(query)
    if found is None:
        raise bad("no resident with that " + ("openid" if openid is not None else "resident_id"), 404)
    return found


# -- events -------------------------------------------------------------------------------------
def event_json(event: Event, taken: int = 0, waitlisted: int = 0) -> dict:
    return {"id": event.id, "title_zh": event.title_zh, "title_en": event.title_en,
            "description": event.description, "description_en": event.description_en,
            "starts_at": event.starts_at.isoformat(), "ends_at": event.ends_at.isoformat(),
            "station_id": event.station_id, "capacity": event.capacity, "audiences": list(event.audiences),
            "cancelled": event.cancelled, "registered": taken, "waitlisted": waitlisted}


def _apply(request: web.Request, event: Event, body: dict, *, creating: bool) -> None:
    stations = request.app[SERVICES].knowledge.stations
    try:
        apply_event_fields(event, body, stations, creating=creating)
    except EventInputError as exc:
        raise bad(str(exc)) from None


async def _counts(session, event_id: int) -> tuple[int, int]:
    rows = dict((await session.execute(select(Registration.status, func.count()).where(
        Registration.event_id == event_id).group_by(Registration.status))).all())
    return rows.get("registered", 0), rows.get("waitlisted", 0)


async def _event(session, request: web.Request) -> Event:
    try:
        event_id = int(request.match_info["event_id"])
    except ValueError:
        raise bad("event id must be a number", 404) from None
    event = await session.get(Event, event_id)
    if event is None:
        raise bad(f"no event {event_id}", 404)
    return event


@require_role("admin")
async def list_events(request: web.Request) -> web.Response:
    async with request.app[SERVICES].db() as session:
        events = list(await session.scalars(select(Event).order_by(Event.starts_at, Event.id)))
        counts = (await session.execute(select(Registration.event_id, Registration.status, func.count())
                                        .group_by(Registration.event_id, Registration.status))).all()
    by_event: dict[tuple[int, str], int] = {(e, s): n for e, s, n in counts}
    return web.json_response({"events": [event_json(e, by_event.get((e.id, "registered"), 0),
                                                    by_event.get((e.id, "waitlisted"), 0)) for e in events]})


@require_role("admin")
async def create_event(request: web.Request) -> web.Response:
    body = await json_body(request)
    event = Event(title_en="", description="", description_en="", audiences=["general"], cancelled=False)
    _apply(request, event, body, creating=True)
    async with request.app[SERVICES].db.begin() as session:
        session.add(event)
    return web.json_response(event_json(event), status=201)


@require_role("admin")
async def get_event(request: web.Request) -> web.Response:
    async with request.app[SERVICES].db() as session:
        event = await _event(session, request)
        return web.json_response(event_json(event, *await _counts(session, event.id)))


@require_role("admin")
async def update_event(request: web.Request) -> web.Response:
    body = await json_body(request)
    async with request.app[SERVICES].db.begin() as session:
        event = await _event(session, request)
        _apply(request, event, body, creating=False)
        await session.flush()
        return web.json_response(event_json(event, *await _counts(session, event.id)))


@require_role("admin")
async def cancel_event(request: web.Request) -> web.Response:
    """Events are cancelled, not erased: registrations stay on record."""
    async with request.app[SERVICES].db.begin() as session:
        event = await _event(session, request)
        event.cancelled = True
        await session.flush()
        return web.json_response(event_json(event, *await _counts(session, event.id)))


@require_role("admin")
async def event_registrations(request: web.Request) -> web.Response:
    async with request.app[SERVICES].db() as session:
        event = await _event(session, request)
        rows = (await session.execute(select(Registration, Resident.openid)
                                      .join(Resident, Resident.id == Registration.resident_id)
                                      .where(Registration.event_id == event.id)
                                      .order_by(Registration.created_at, Registration.id))).all()
    return web.json_response({"event_id": event.id, "registrations": [
        {"id": r.id, "resident_id": r.resident_id, "openid": openid, "status": r.status,
         "created_at": r.created_at.isoformat()} for r, openid in rows]})


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/api/assessments", post_assessment)
    app.router.add_get("/api/events", list_events)
    app.router.add_post("/api/events", create_event)
    app.router.add_get("/api/events/{event_id}", get_event)
    app.router.add_patch("/api/events/{event_id}", update_event)
    app.router.add_delete("/api/events/{event_id}", cancel_event)
    app.router.add_get("/api/events/{event_id}/registrations", event_registrations)
