"""Review plugs into the app: search, conversation view, exports and print, the audit trail,
quality reviews, retention holds and data-subject requests, all under /review.

Every handler that shows transcript content writes its audit entry before it answers.
"""
from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import AsyncIterator

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from bot import localtime
from bot.appkeys import SERVICES
from bot.auth import current_user, require_role
from bot.models import Conversation, Message
from handoff.detections import MISSED_LEVELS, NotAResidentMessage, mark_missed
from handoff.review import audit, conversation, export, search
from handoff.review.access import CONTENT_ROLES, EXPORT_ROLES, may_read, message_scope
from handoff.review.quality import checklist
from handoff.review.staff_views import add_staff_routes

EXPORT_CAP = 20_000  # rows in one search export


async def review_services(app: web.Application) -> AsyncIterator[None]:
    await asyncio.to_thread(checklist)  # a bad checklist file stops the start, naming the line
    yield


def _bool(request: web.Request, name: str, default: bool) -> bool:
    value = request.query.get(name)
    return default if value is None else value not in ("0", "false", "no", "")


def _filters(request: web.Request) -> search.Filters:
    try:
        return search.parse_filters(dict(request.query))
    except search.SearchError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None


@require_role(*CONTENT_ROLES)
async def search_page(request: web.Request) -> web.Response:
    context = {"query": request.query, "page": None, "error": ""}
    if request.query:
        try:
            f = search.parse_filters(dict(request.query))
        except search.SearchError as exc:
            context["error"] = str(exc)
        else:
            context["page"] = await _search(request, f)
    return aiohttp_jinja2.render_template("review_search.html", request, context)


@require_role(*CONTENT_ROLES)
async def search_api(request: web.Request) -> web.Response:
    page = await _search(request, _filters(request))
    return web.json_response({"hits": [_hit_json(h) for h in page.hits], "next": page.next_cursor})


async def _search(request: web.Request, f: search.Filters) -> search.Page:
    services, user = request.app[SERVICES], await current_user(request)
    async with services.db() as session:
        page = await search.search(session, user, f)
    await audit.record(services.db, request, user, "search", "search", "", f.summary())
    return page


def _hit_json(h: search.Hit) -> dict:
    return {"message_id": h.id, "conversation_id": h.conversation_id, "openid": h.openid, "direction": h.direction,
            "sender": h.sender, "author": h.author, "kind": h.kind, "content": h.content,
            "created_at": localtime.iso(h.created_at)}


@require_role(*EXPORT_ROLES)
async def search_export(request: web.Request) -> web.Response:
    services, user = request.app[SERVICES], await current_user(request)
    f, fmt, redacted = _filters(request), request.match_info["fmt"], _bool(request, "redact", True)
    f, hits = replace(f, limit=search.MAX_PAGE), []
    async with services.db() as session:
        while len(hits) < EXPORT_CAP:
            page = await search.search(session, user, f)
            hits += page.hits
            if not page.next_cursor:
                break
            f = replace(f, cursor=search.decode_cursor(page.next_cursor))
    rows = [export.Row(h.conversation_id, h.id, h.created_at, h.openid, h.direction, h.sender, h.author, h.kind,
                       h.content) for h in hits[:EXPORT_CAP]]
    names = {h.resident_name for h in hits} | ({h.author for h in hits} if _bool(request, "staff", False) else set())
    records = export.as_records(rows, redacted=redacted, names=names)
    await audit.record(services.db, request, user, "export", "search", "",
                       f"{fmt} rows={len(records)} redacted={int(redacted)} {f.summary()}")
    return _download(fmt, "search", records, {"filters": f.summary(), "redacted": redacted})


def _download(fmt: str, stem: str, records: list[dict], meta: dict) -> web.Response:
    if fmt == "csv":
        body, content_type = export.to_csv(records), "text/csv"
    else:
        body, content_type = export.to_json(meta, records), "application/json"
    return web.Response(text=body, content_type=content_type, charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="xinzhan-{stem}.{fmt}"'})


async def _readable(request: web.Request) -> conversation.ConversationView:
    services, user = request.app[SERVICES], await current_user(request)
    try:
        conversation_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with services.db() as session:
        if await session.get(Conversation, conversation_id) is None:
            raise web.HTTPNotFound(text="没有这段对话")
        if not await may_read(session, user, conversation_id):
            raise web.HTTPForbidden(text="你无权查看这段对话（进行中的个案请在控制台查看）")
        return await conversation.load(session, conversation_id, user)


@require_role(*CONTENT_ROLES)
async def conversation_page(request: web.Request) -> web.Response:
    view = await _readable(request)
    user = await current_user(request)
    await audit.record(request.app[SERVICES].db, request, user, "view", "conversation", view.conversation.id,
                       f"messages={len(view.turns)}")
    return aiohttp_jinja2.render_template("review_conversation.html", request, {"view": view})


@require_role(*EXPORT_ROLES)
async def conversation_export(request: web.Request) -> web.Response:
    view = await _readable(request)
    fmt, redacted = request.match_info["fmt"], _bool(request, "redact", True)
    names = view.names(_bool(request, "staff", False))
    records = export.as_records(view.rows(), redacted=redacted, names=names)
    await audit.record(request.app[SERVICES].db, request, await current_user(request), "export", "conversation",
                       view.conversation.id, f"{fmt} rows={len(records)} redacted={int(redacted)}")
    meta = {"conversation_id": view.conversation.id, "redacted": redacted, "cases": _cases(view, redacted, names)}
    return _download(fmt, f"conversation-{view.conversation.id}", records, meta)


def _cases(view: conversation.ConversationView, redacted: bool, names: list[str]) -> list[dict]:
    return [export.case_record(c.case, c.counsellor, c.notes, redacted=redacted, names=names) for c in view.cases]


@require_role(*EXPORT_ROLES)
async def conversation_print(request: web.Request) -> web.Response:
    view = await _readable(request)
    redacted = _bool(request, "redact", True)
    names = view.names(_bool(request, "staff", False))
    records = export.as_records(view.rows(), redacted=redacted, names=names)
    await audit.record(request.app[SERVICES].db, request, await current_user(request), "print", "conversation",
                       view.conversation.id, f"rows={len(records)} redacted={int(redacted)}")
    return aiohttp_jinja2.render_template("review_print.html", request, {
        "view": view, "records": records, "redacted": redacted, "cases": _cases(view, redacted, names)})


@require_role(*CONTENT_ROLES)
async def mark_missed_message(request: web.Request) -> web.Response:
    """"The bot missed this" on a resident message the staff member may read here, at level 2-4:
    the same label the console records, so a city can retrain on its residents' wording."""
    services, user = request.app[SERVICES], await current_user(request)
    message_id = int(request.match_info["id"])
    async with services.db() as session:
        message = await session.scalar(select(Message).where(Message.id == message_id, message_scope(user)))
    if message is None:
        raise web.HTTPForbidden(text="你无权标注这条消息（进行中的个案请在控制台标注）")
    try:
        level = int(str((await request.post()).get("level", "")))
    except ValueError:
        level = 0
    if level not in MISSED_LEVELS:
        raise web.HTTPBadRequest(text="请选择风险等级 2、3 或 4")
    try:
        detection_id = await mark_missed(services, staff_id=user.id, message_id=message.id, level=level)
    except NotAResidentMessage:
        raise web.HTTPBadRequest(text="只能标注来访者发来的消息") from None
    await audit.record(services.db, request, user, "label", "message", message.id,
                       f"missed level={level} detection={detection_id}")
    raise web.HTTPSeeOther(f"/review/conversations/{message.conversation_id}#m{message.id}")


def setup_app(app: web.Application) -> None:
    app.cleanup_ctx.append(review_services)
    app.router.add_get("/review", search_page)
    app.router.add_get("/review/api/search", search_api)
    app.router.add_get(r"/review/export.{fmt:csv|json}", search_export)
    app.router.add_get(r"/review/conversations/{id:\d+}", conversation_page)
    app.router.add_get(r"/review/conversations/{id:\d+}/export.{fmt:csv|json}", conversation_export)
    app.router.add_get(r"/review/conversations/{id:\d+}/print", conversation_print)
    app.router.add_post(r"/review/messages/{id:\d+}/missed", mark_missed_message)
    add_staff_routes(app)
