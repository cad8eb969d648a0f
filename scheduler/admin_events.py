"""The events admin (admin role): events listed, created and edited, each with its registrations,
attendance and a CSV of them. Events are the flows package's; a saved event is checked by the same
`flows.event_input` as the events API, so the form refuses what the API refuses."""
from __future__ import annotations

import csv
import io

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from bot import localtime
from bot.auth import require_role
from bot.models import Resident
from bot.spreadsheet import safe_row
from flows.event_input import EventInputError, apply_event_fields
from flows.models import Event, Registration
from flows.registrations import set_attendance
from knowledge.stations import StationMap
from scheduler.outreach import OUTREACH

admin = require_role("admin")
TEXT_FIELDS = ("title_zh", "title_en", "description", "station_id", "starts_at", "ends_at")


def _stations(request: web.Request) -> StationMap:
    return request.app[OUTREACH].services.knowledge.stations


@admin
async def events_page(request: web.Request) -> web.Response:
    async with request.app[OUTREACH].services.db() as session:
        events = list(await session.scalars(select(Event).order_by(Event.starts_at.desc()).limit(200)))
    return aiohttp_jinja2.render_template("admin_events.html", request, {
        "events": events, "local": localtime.input_value, "stations": _stations(request).stations()})


def _event_body(form) -> dict:
    """The form as the events API's body: text trimmed, the capacity a number where it is one."""
    body = {key: str(form.get(key) or "").strip() for key in TEXT_FIELDS}
    capacity = str(form.get("capacity") or "").strip()
    body["capacity"] = int(capacity) if capacity.isdigit() else capacity
    return body


@admin
async def save_event(request: web.Request) -> web.Response:
    form = await request.post()
    event_id = request.match_info.get("event_id")
    try:
        async with request.app[OUTREACH].services.db.begin() as session:
            event = await session.get(Event, int(event_id)) if event_id else Event(audiences=["general"])
            if event is None:
                raise web.HTTPNotFound()
            apply_event_fields(event, _event_body(form), _stations(request), creating=event_id is None)
            event.cancelled = form.get("cancelled") == "on"
            session.add(event)
    except EventInputError as exc:
        raise web.HTTPBadRequest(text=f"活动未保存 (event not saved): {exc}") from None
    raise web.HTTPFound("/admin/events")


async def _registrations(request: web.Request):
    event_id = int(request.match_info["event_id"])
    async with request.app[OUTREACH].services.db() as session:
        event = await session.get(Event, event_id)
        if event is None:
            raise web.HTTPNotFound()
        rows = (await session.execute(select(Registration, Resident.openid, Resident.name)
                                      .join(Resident, Resident.id == Registration.resident_id)
                                      .where(Registration.event_id == event_id)
                                      .order_by(Registration.created_at))).all()
    return event, rows


@admin
async def event_page(request: web.Request) -> web.Response:
    event, rows = await _registrations(request)
    return aiohttp_jinja2.render_template("admin_event.html", request, {
        "event": event, "rows": rows, "attended": sum(1 for r, *_ in rows if r.attended_at is not None),
        "local": localtime.input_value, "stations": _stations(request).stations()})


@admin
async def mark_attendance(request: web.Request) -> web.Response:
    """The registrations page's attendance checkboxes: the ticked residents came, the others did not."""
    form = await request.post()
    try:
        attended = {int(v) for v in form.getall("attended", [])}
        await set_attendance(request.app[OUTREACH].services, int(request.match_info["event_id"]), attended)
    except ValueError as exc:  # AttendanceError is one
        raise web.HTTPBadRequest(text=f"出席名单有误，未保存 (attendance not saved): {exc}") from None
    raise web.HTTPFound(f"/admin/events/{request.match_info['event_id']}")


@admin
async def event_csv(request: web.Request) -> web.Response:
    event, rows = await _registrations(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["openid", "name", "status", "registered_at", "attended_at"])
    for registration, openid, name in rows:
        attended = localtime.fmt(registration.attended_at) if registration.attended_at else ""
        writer.writerow(safe_row([openid, name, registration.status, localtime.fmt(registration.created_at), attended]))
    return web.Response(body=("\ufeff" + buffer.getvalue()).encode(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="event-{event.id}.csv"'})


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/admin/events", events_page)
    r.add_post("/admin/events", save_event)
    r.add_get(r"/admin/events/{event_id:\d+}", event_page)
    r.add_post(r"/admin/events/{event_id:\d+}", save_event)
    r.add_get(r"/admin/events/{event_id:\d+}/registrations.csv", event_csv)
    r.add_post(r"/admin/events/{event_id:\d+}/attendance", mark_attendance)
