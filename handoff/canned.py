"""Canned responses: counsellors insert them with `/shortcut` (variables like {name} filled in the
console), supervisors edit them in the console. The first edit copies the defaults from the texts
(handoff.canned_*) into the table, so an edit never loses the others; after that the table is the list.

Also the composer's context for one case: the 48-hour allowance left (asked again whenever the
resident writes) and the values of the variables.
"""
from __future__ import annotations

import re

from aiohttp import web
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.appkeys import SERVICES
from bot.auth import current_user, require_role
from bot.db import utcnow
from bot.models import Resident
from bot.services import Services
from handoff import cases, content
from handoff.models import CannedResponse

STAFF = ("counsellor", "supervisor")
SHORTCUT = re.compile(r"^[a-z0-9_\-\u4e00-\u9fff]{1,32}$")
MAX_BODY = 2000


async def canned_list(services: Services) -> list[dict]:
    async with services.db() as session:
        rows = list(await session.scalars(select(CannedResponse).order_by(CannedResponse.shortcut)))
    if rows:
        return [{"id": r.id, "shortcut": r.shortcut, "text": r.body} for r in rows]
    return [{"id": None, "shortcut": c["key"], "text": c["text"]} for c in content.canned(services.knowledge.texts)]


async def _copy_defaults(session: AsyncSession, services: Services, staff_id: int) -> None:
    if await session.scalar(select(func.count()).select_from(CannedResponse)):
        return
    for c in content.canned(services.knowledge.texts):
        session.add(CannedResponse(shortcut=c["key"], body=c["text"], updated_by=staff_id, updated_at=utcnow()))
    await session.flush()


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@require_role(*STAFF)
async def list_view(request: web.Request) -> web.Response:
    return web.json_response({"canned": await canned_list(request.app[SERVICES])})


@require_role("supervisor")
async def save(request: web.Request) -> web.Response:
    """Add or change one: {"shortcut", "text"}; an existing shortcut is changed in place."""
    services, user = request.app[SERVICES], await current_user(request)
    try:
        data = await request.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return _error(400, "body must be a JSON object")
    shortcut = str(data.get("shortcut", "")).strip().lower()
    body = str(data.get("text", "")).strip()
    if not SHORTCUT.match(shortcut):
        return _error(400, "快捷词为 1-32 个字母、数字、汉字、- 或 _")
    if not body or len(body) > MAX_BODY:
        return _error(400, f"回复内容不能为空，且不超过 {MAX_BODY} 字")
    async with services.db.begin() as session:
        await _copy_defaults(session, services, user.id)
        row = await session.scalar(select(CannedResponse).where(CannedResponse.shortcut == shortcut))
        if row is None:
            session.add(CannedResponse(shortcut=shortcut, body=body, updated_by=user.id, updated_at=utcnow()))
        else:
            row.body, row.updated_by, row.updated_at = body, user.id, utcnow()
    return web.json_response({"canned": await canned_list(services)})


@require_role("supervisor")
async def remove(request: web.Request) -> web.Response:
    services, user = request.app[SERVICES], await current_user(request)
    shortcut = request.match_info["shortcut"]
    async with services.db.begin() as session:
        await _copy_defaults(session, services, user.id)
        done = await session.execute(delete(CannedResponse).where(CannedResponse.shortcut == shortcut))
    if not done.rowcount:
        return _error(404, "没有这个快捷词")
    return web.json_response({"canned": await canned_list(services)})


@require_role(*STAFF)
async def composer(request: web.Request) -> web.Response:
    """What the composer of one case needs: the allowance left and the variables' values."""
    services, user = request.app[SERVICES], await current_user(request)
    try:
        case = await cases.get_case(services, int(request.match_info["case_id"]))
    except cases.CaseError:
        return _error(404, "没有这个个案")
    if not (user.has("supervisor") or case.counsellor_id == user.id or case.status == "waiting"):
        return _error(403, "只有接手的咨询师和督导可以查看这个个案")
    async with services.db() as session:
        resident = await session.get(Resident, case.resident_id)
    return web.json_response({
        "sends_left": await services.cs_window.remaining(resident.openid),
        "variables": {"name": resident.name or "您", "counsellor": user.display_name or user.username,
                      "hotline": content.local_hotline(services.knowledge, resident.area)}})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/console/api/canned", list_view)
    app.router.add_post("/console/api/canned", save)
    app.router.add_post(r"/console/api/canned/{shortcut}/delete", remove)
    app.router.add_get(r"/console/api/cases/{case_id:\d+}/composer", composer)
