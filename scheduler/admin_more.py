"""Admin pages around campaigns: tags and CSV import, events and registrations, knowledge content,
and the dashboard route. Events belong to the flows package; these pages only edit its rows."""
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
from scheduler import tags
from scheduler.dashboard import dashboard
from scheduler.outreach import OUTREACH

admin = require_role("admin")
MAX_CSV_BYTES = 20 * 1024 * 1024


@admin
async def tags_page(request: web.Request, result: tags.ImportResult | None = None, error: str = "") -> web.Response:
    counts = await tags.tag_counts(request.app[OUTREACH].services.db)
    return aiohttp_jinja2.render_template("admin_tags.html", request,
                                          {"counts": counts, "result": result, "error": error})


@admin
async def tag_resident(request: web.Request) -> web.Response:
    form = await request.post()
    db = request.app[OUTREACH].services.db
    async with db() as session:
        resident_id = await session.scalar(select(Resident.id).where(Resident.openid == str(form.get("openid", ""))))
    if resident_id is None:
        return await tags_page.__wrapped__(request, error="没有这个 openid 的居民")
    try:
        if form.get("remove"):
            await tags.remove_tag(db, resident_id, str(form.get("tag", "")))
        else:
            await tags.add_tags(db, resident_id, [str(form.get("tag", ""))])
    except ValueError as exc:
        return await tags_page.__wrapped__(request, error=str(exc))
    raise web.HTTPFound("/admin/tags")


@admin
async def import_tags(request: web.Request) -> web.Response:
    if (request.content_length or 0) > MAX_CSV_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_CSV_BYTES, actual_size=request.content_length)
    form = await request.post()
    upload = form.get("file")
    if upload is None or not hasattr(upload, "file"):
        return await tags_page.__wrapped__(request, error="请选择一个 CSV 文件")
    try:
        text = upload.file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        return await tags_page.__wrapped__(request, error="CSV 需为 UTF-8 编码")
    result = await tags.import_csv(request.app[OUTREACH].services.db, text)
    return await tags_page.__wrapped__(request, result=result)


MAX_CAPACITY = 100_000  # beyond the column's range a save would fail in the database, not the form


@admin
async def events_page(request: web.Request) -> web.Response:
    try:
        from flows.models import Event
    except ImportError:
        return aiohttp_jinja2.render_template("admin_events.html", request, {"events": None})
    async with request.app[OUTREACH].services.db() as session:
        events = list(await session.scalars(select(Event).order_by(Event.starts_at.desc()).limit(200)))
    return aiohttp_jinja2.render_template("admin_events.html", request, {
        "events": events, "local": localtime.input_value, "stations": request.app[OUTREACH].services.knowledge.stations.stations()})


def _event_from(form, event) -> None:
    event.title_zh = str(form.get("title_zh") or "").strip()[:200]
    event.title_en = str(form.get("title_en") or "").strip()[:200]
    event.description = str(form.get("description") or "")
    event.station_id = str(form.get("station_id") or "")[:64]
    try:
        event.starts_at = localtime.from_local(str(form.get("starts_at")))
        event.ends_at = localtime.from_local(str(form.get("ends_at")))
        event.capacity = int(form.get("capacity") or 0)
    except (TypeError, ValueError):
        raise web.HTTPBadRequest(text="开始、结束时间和名额需填写完整") from None
    event.cancelled = form.get("cancelled") == "on"
    if not event.title_zh or event.ends_at <= event.starts_at or not 1 <= event.capacity <= MAX_CAPACITY:
        raise web.HTTPBadRequest(text=f"活动需有名称、结束晚于开始、名额为 1-{MAX_CAPACITY}")


@admin
async def save_event(request: web.Request) -> web.Response:
    from flows.models import Event

    form = await request.post()
    async with request.app[OUTREACH].services.db.begin() as session:
        event_id = request.match_info.get("event_id")
        event = await session.get(Event, int(event_id)) if event_id else Event(audiences=["general"])
        if event is None:
            raise web.HTTPNotFound()
        _event_from(form, event)
        session.add(event)
    raise web.HTTPFound("/admin/events")


async def _registrations(request: web.Request):
    from flows.models import Event, Registration

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
        "local": localtime.input_value, "stations": request.app[OUTREACH].services.knowledge.stations.stations()})


@admin
async def mark_attendance(request: web.Request) -> web.Response:
    """The registrations page's attendance checkboxes: the ticked residents came, the others did not."""
    from flows.registrations import AttendanceError, set_attendance

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


@admin
async def knowledge_page(request: web.Request) -> web.Response:
    library = request.app[OUTREACH].services.knowledge.tips
    return aiohttp_jinja2.render_template("admin_knowledge.html", request, {
        "topics": [(t, library.by_topic(t.id)) for t in library.topics()],
        "stations": request.app[OUTREACH].services.knowledge.stations.stations()})


@admin
async def staff_page(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template("admin_staff.html", request, {})


def setup_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/admin", dashboard)
    r.add_get("/admin/tags", tags_page)
    r.add_post("/admin/tags", tag_resident)
    r.add_post("/admin/tags/import", import_tags)
    r.add_get("/admin/events", events_page)
    r.add_post("/admin/events", save_event)
    r.add_get(r"/admin/events/{event_id:\d+}", event_page)
    r.add_post(r"/admin/events/{event_id:\d+}", save_event)
    r.add_get(r"/admin/events/{event_id:\d+}/registrations.csv", event_csv)
    r.add_post(r"/admin/events/{event_id:\d+}/attendance", mark_attendance)
    r.add_get("/admin/knowledge", knowledge_page)
    r.add_get("/admin/staff", staff_page)
