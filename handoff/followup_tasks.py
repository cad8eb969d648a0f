"""The console's follow-up list: check-ins the scheduler sent (scheduler.followups), each a task on
its counsellor's list or the pool's (no owner) until someone marks it done; and the call-back requests
with their resident, case and risk level, for the same column of the console.
"""
from __future__ import annotations

from aiohttp import web
from sqlalchemy import or_, select, true, update

from bot.appkeys import SERVICES
from bot.auth import current_user, require_role
from bot.db import utcnow
from handoff import events, record
from handoff.models import Callback, Case, FollowUp

STAFF = ("counsellor", "supervisor")


@require_role(*STAFF)
async def follow_up_list(request: web.Request) -> web.Response:
    """Sent check-ins still to be followed up: the user's own and the pool's (supervisors see all)."""
    services = request.app[SERVICES]
    user = await current_user(request)
    query = (select(FollowUp, Case).join(Case, Case.id == FollowUp.case_id)
             .where(FollowUp.sent_at.is_not(None), FollowUp.done_at.is_(None)).order_by(FollowUp.due_at))
    if not user.has("supervisor"):
        query = query.where(or_(FollowUp.staff_id == user.id, FollowUp.staff_id.is_(None)))
    names = await record.staff_names(services)
    async with services.db() as session:
        rows = (await session.execute(query)).all()
    return web.json_response({"follow_ups": [{
        "id": f.id, "case_id": f.case_id, "resident_id": f.resident_id, "level": case.level,
        "channel": f.channel, "due_at": record.iso(f.due_at), "sent_at": record.iso(f.sent_at), "error": f.error,
        "owner": names.get(f.staff_id, "") if f.staff_id else "", "pool": f.staff_id is None,
        "summary": case.notes} for f, case in rows]})


@require_role(*STAFF)
async def follow_up_done(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    user = await current_user(request)
    mine_or_pool = or_(FollowUp.staff_id == user.id, FollowUp.staff_id.is_(None))
    async with services.db.begin() as session:
        done = await session.execute(
            update(FollowUp).where(FollowUp.id == int(request.match_info["follow_up_id"]),
                                   FollowUp.sent_at.is_not(None), FollowUp.done_at.is_(None),
                                   true() if user.has("supervisor") else mine_or_pool)
            .values(done_at=utcnow(), done_by=user.id))
    if not done.rowcount:
        return web.json_response({"error": "这项回访已处理或不在你的列表上"}, status=409)
    await events.publish(services.redis, "followup")
    return web.json_response({"ok": True})


@require_role(*STAFF)
async def callback_list(request: web.Request) -> web.Response:
    """Open call-back requests, oldest first, with the case they came from and its risk level."""
    services = request.app[SERVICES]
    async with services.db() as session:
        rows = (await session.execute(select(Callback, Case).outerjoin(Case, Case.id == Callback.case_id)
                                      .where(Callback.status == "open").order_by(Callback.created_at))).all()
    return web.json_response({"callbacks": [{
        "id": cb.id, "resident_id": cb.resident_id, "case_id": cb.case_id, "phone": cb.phone,
        "level": case.level if case is not None else None, "case_status": case.status if case is not None else "",
        "at": record.iso(cb.created_at)} for cb, case in rows]})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/console/api/follow-ups", follow_up_list)
    app.router.add_post(r"/console/api/follow-ups/{follow_up_id:\d+}/done", follow_up_done)
    app.router.add_get("/console/api/callbacks", callback_list)
