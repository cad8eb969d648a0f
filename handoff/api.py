"""The console's JSON API under /console/api: queue, take, chat, notes, transfer, close, supervisor overview.

Every handler is guarded by a role; writes carry the session's CSRF token (X-CSRF-Token).
Delivery failures (48-hour window, platform errors) come back in the answer, for the console to show.
"""
from __future__ import annotations

import json
from datetime import timedelta

from aiohttp import web
from sqlalchemy import select, update

from bot import localtime
from bot.appkeys import SERVICES
from bot.auth import Staff, current_user, require_role
from bot.labels import LABELS
from bot.db import utcnow
from bot.models import Message, StaffUser
from bot.values import Reply
from handoff.detections import NotAResidentMessage, mark_false_alarm, mark_missed
from handoff import cases, events, history, record, transfers
from handoff.models import Callback, Case
from handoff.offers import TransferOffers
from handoff.presence import Presence
from handoff.queue import CaseQueue
from handoff.review import audit
from handoff.roster import on_duty

STAFF = ("counsellor", "supervisor")
MAX_TEXT = 2000
MAX_FOLLOW_UP_DAYS = 60


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _case_id(request: web.Request) -> int:
    try:
        return int(request.match_info["case_id"])
    except ValueError:
        raise web.HTTPNotFound() from None


async def _body(request: web.Request) -> dict:
    try:
        data = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text='{"error": "body must be JSON"}', content_type="application/json") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text='{"error": "body must be a JSON object"}', content_type="application/json")
    return data


def _may_see(user: Staff, case: Case) -> bool:
    """The holder, any supervisor (read-only watch), and anyone choosing from the waiting queue."""
    return user.has("supervisor") or case.counsellor_id == user.id or case.status == "waiting"


WATCH_AUDITED_FOR = 600  # seconds: a watching console reloads the case on every event; one entry each stretch


async def _audit_watch(request: web.Request, user: Staff, case: Case, summary: str = "console") -> None:
    """Reading a case one does not hold (a supervisor's watch, a look at the waiting queue, an earlier
    case of the resident) is a transcript access: audited, once per person and case in each stretch
    of WATCH_AUDITED_FOR."""
    services = request.app[SERVICES]
    if await services.redis.set(f"audit:watch:{user.id}:{case.id}", 1, nx=True, ex=WATCH_AUDITED_FOR):
        await audit.record(services.db, request, user, "view", "case", case.id, summary=summary)


async def _existing_case(request: web.Request) -> Case:
    """The case the URL names; 404 when there is none."""
    try:
        return await cases.get_case(request.app[SERVICES], _case_id(request))
    except cases.CaseError as err:
        raise web.HTTPNotFound(text=json.dumps({"error": str(err)}, ensure_ascii=False),
                               content_type="application/json") from None


async def _held_case(request: web.Request, user: Staff) -> Case:
    case = await _existing_case(request)
    if case.status != "active" or case.counsellor_id != user.id:
        raise web.HTTPConflict(text='{"error": "这个个案不在你手上"}', content_type="application/json")
    return case


@require_role(*STAFF)
async def queue_view(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    user = await current_user(request)
    order = await CaseQueue(services.redis).waiting()
    names = await record.staff_names(services)
    async with services.db() as session:
        rows = {c.id: c for c in await session.scalars(select(Case).where(Case.status.in_(cases.OPEN)))}
        callbacks = list(await session.scalars(select(Callback).where(Callback.status == "open")
                                               .order_by(Callback.created_at)))
    waiting = [record.case_json(rows[i], names) for i in order if i in rows and rows[i].status == "waiting"]
    offers = {o.case_id: o for o in await TransferOffers(services.redis).all() if o.case_id in rows}
    mine = [dict(record.case_json(c, names), transfer=await offer_json(services, offers[c.id]) if c.id in offers else None)
            for c in rows.values() if c.status == "active" and c.counsellor_id == user.id]
    incoming = [dict(record.case_json(rows[o.case_id], names), transfer=await offer_json(services, o))
                for o in offers.values() if o.is_for(user.id, user.roles)]
    return web.json_response({
        "me": {"id": user.id, "name": user.display_name, "roles": sorted(user.roles),
               "cap": await cases.cap_of(services, user.id)},
        "waiting": waiting, "mine": sorted(mine, key=lambda c: c["claimed_at"] or ""), "offers": incoming,
        "callbacks": [{"id": c.id, "resident_id": c.resident_id, "case_id": c.case_id, "phone": c.phone,
                       "at": record.iso(c.created_at)} for c in callbacks]})


@require_role(*STAFF)
async def take(request: web.Request) -> web.Response:
    user = await current_user(request)
    data = await _body(request)
    chosen = data.get("case_id")
    if chosen is not None and not isinstance(chosen, int):
        return _error(400, "case_id must be a number")
    result = await cases.claim(request.app[SERVICES], user.id, chosen)
    messages = {"cap": "你已达到同时接待上限，请先结束一个对话", "empty": "队列里没有等待的个案",
                "gone": "这个个案已被其他人接走"}
    if result.status != "ok":
        return web.json_response({"status": result.status, "error": messages[result.status]}, status=409)
    return web.json_response({"status": "ok", "case": record.case_json(result.case)})


@require_role(*STAFF)
async def case_detail(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    user = await current_user(request)
    case = await _existing_case(request)
    if not _may_see(user, case):
        return _error(403, "只有接手的咨询师和督导可以查看这个个案")
    if case.counsellor_id != user.id:
        await _audit_watch(request, user, case)
    notes, steps = await record.timeline(services, case.id, request.app[LABELS])
    ref_window = await services.cs_window.remaining((await cases.resident_ref(services, case.resident_id)).openid)
    return web.json_response({
        "case": record.case_json(case, await record.staff_names(services)),
        "history": (await history.page(services, case, request.app[LABELS])).json(),
        "notes": notes, "timeline": steps, "record": await record.resident_record(services, case.resident_id),
        "sends_left": ref_window, "can_write": case.status == "active" and case.counsellor_id == user.id})


@require_role(*STAFF)
async def send_message(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    user = await current_user(request)
    case = await _held_case(request, user)
    text = str((await _body(request)).get("text", "")).strip()
    if not text or len(text) > MAX_TEXT:
        return _error(400, f"消息不能为空，且不超过 {MAX_TEXT} 字")
    ref = await cases.resident_ref(services, case.resident_id)
    [delivery] = await services.messenger.send(ref, [Reply(text=text)], sender="counsellor", author_id=user.id)
    await events.publish(services.redis, "sent", message={
        "sender": "counsellor", "author_id": user.id, "author": user.display_name, "kind": "text", "content": text,
        "at": localtime.iso(utcnow()),
        "delivery": "cs" if delivery.ok else "failed", "error": delivery.error}, **cases.case_fields(case))
    return web.json_response({"ok": delivery.ok, "error": delivery.error, "errcode": delivery.errcode,
                              "sends_left": await services.cs_window.remaining(ref.openid)},
                             status=200 if delivery.ok else 502)


@require_role(*STAFF)
async def add_note(request: web.Request) -> web.Response:
    user = await current_user(request)
    case = await _existing_case(request) if user.has("supervisor") else await _held_case(request, user)
    try:
        note = await cases.add_note(request.app[SERVICES], case.id, user.id, str((await _body(request)).get("body", "")))
    except cases.CaseError as err:
        return _error(400, str(err))
    return web.json_response(record.note_json(note, {user.id: user.display_name}))


@require_role(*STAFF)
async def missed(request: web.Request) -> web.Response:
    """"The bot missed this" on a resident message of the case, read too low, at the level given (2-4)."""
    services, user = request.app[SERVICES], await current_user(request)
    case = await _existing_case(request) if user.has("supervisor") else await _held_case(request, user)
    level = (await _body(request)).get("level")
    async with services.db() as session:
        message = await session.get(Message, int(request.match_info["message_id"]))
    if message is None or message.resident_id != case.resident_id:
        return _error(404, "这条消息不属于这个个案的来访者")
    if level not in (2, 3, 4):
        return _error(400, "请选择风险等级 2、3 或 4")
    try:
        detection_id = await mark_missed(services, staff_id=user.id, message_id=message.id, level=level)
    except NotAResidentMessage:
        return _error(400, "只能标注来访者发来的消息")
    await audit.record(services.db, request, user, "label", "message", message.id,
                       f"missed level={level} detection={detection_id}")
    return web.json_response({"detection_id": detection_id})


@require_role(*STAFF)
async def transfer(request: web.Request) -> web.Response:
    """Offer the case to a colleague (`to`: their id) or the supervisor pool (`to`: "supervisor")."""
    services = request.app[SERVICES]
    user = await current_user(request)
    case = await _held_case(request, user)
    to = (await _body(request)).get("to")
    if to != "supervisor" and (not isinstance(to, int) or isinstance(to, bool)):
        return _error(400, "请选择另一位咨询师或督导")
    try:
        made = await transfers.offer(services, case, user.id, None if to == "supervisor" else to)
    except cases.CaseError as err:
        return _error(409, str(err))
    return web.json_response({"transfer": await offer_json(services, made)})


async def offer_json(services, offer) -> dict:
    """What a console shows of a waiting transfer: to whom, and until when."""
    return {"case_id": offer.case_id, "from_id": offer.from_id, "to_id": offer.to_id,
            "from": await cases.staff_name(services, offer.from_id),
            "to": "值班督导" if offer.to_id is None else await cases.staff_name(services, offer.to_id),
            "expires_ms": offer.expires_ms}


@require_role(*STAFF)
async def give_back(request: web.Request) -> web.Response:
    """Back to the queue; a level 3-4 case only with a note saying why, for whoever takes it next."""
    services = request.app[SERVICES]
    user = await current_user(request)
    case = await _held_case(request, user)
    note = str((await _body(request)).get("note", "")).strip()
    if case.level >= 3 and not note:
        return _error(400, "L3-L4 个案放回队列前必须写一条备注，说明原因和下一步")
    if note:
        await cases.add_note(services, case.id, user.id, note)
    await cases.requeue(services, case.id, user.id, "given back")
    return web.json_response({"ok": True})


@require_role(*STAFF)
async def close(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    user = await current_user(request)
    try:
        case = await cases.get_case(services, _case_id(request))
    except cases.CaseError:
        raise web.HTTPNotFound() from None
    if not (case.counsellor_id == user.id or user.has("supervisor")):
        return _error(409, "只有接手的咨询师或督导可以结案")
    data = await _body(request)
    rating = data.get("risk_rating")
    if rating is not None and not isinstance(rating, int):
        return _error(400, "风险评级为 0-4 的整数")
    try:
        plan = _follow_up_plan(data.get("follow_up"), user.id)
        case, deliveries = await cases.close(services, case.id, user.id, str(data.get("outcome", "")), rating,
                                             str(data.get("summary", "")), plan)
    except cases.CaseError as err:
        return _error(409, str(err))
    if case.false_alarm:  # the detections behind it are marked, and kept for tuning the lexicon
        await mark_false_alarm(services, staff_id=user.id, case_id=case.id)
    return web.json_response({"case": record.case_json(case),
                              "deliveries": [{"ok": d.ok, "error": d.error} for d in deliveries]})


def _follow_up_plan(raw: object, closer_id: int) -> cases.FollowUpPlan | None:
    """The close form's follow-up: {"at": local "YYYY-MM-DDTHH:MM", "channel": "cs"|"template",
    "to": "me"|"pool"}; absent means the default (two days, customer-service, the closer's list)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise cases.CaseError("回访设置格式不对")
    try:
        due = localtime.from_local(str(raw.get("at", "")))
    except ValueError:
        raise cases.CaseError("请填写回访时间") from None
    if not utcnow() < due <= utcnow() + timedelta(days=MAX_FOLLOW_UP_DAYS):
        raise cases.CaseError(f"回访时间须在现在之后的 {MAX_FOLLOW_UP_DAYS} 天内")
    return cases.FollowUpPlan(due, str(raw.get("channel", "cs")), None if raw.get("to") == "pool" else closer_id)


@require_role(*STAFF)
async def callback_done(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    user = await current_user(request)
    async with services.db.begin() as session:
        done = await session.execute(update(Callback).where(Callback.id == int(request.match_info["callback_id"]),
                                                            Callback.status == "open")
                                     .values(status="done", done_at=utcnow(), done_by=user.id))
    if not done.rowcount:
        return _error(409, "这个回电请求已处理")
    await events.publish(services.redis, "callback")
    return web.json_response({"ok": True})


@require_role(*STAFF)
async def staff_view(request: web.Request) -> web.Response:
    """Counsellors and supervisors with their duty, presence and load: for transfer and the supervisor view."""
    services = request.app[SERVICES]
    seen = await Presence(services.redis).all()
    claims = await CaseQueue(services.redis).claims()
    async with services.db() as session:
        users = [u for u in await session.scalars(select(StaffUser).where(StaffUser.active))
                 if {"counsellor", "supervisor"} & set(u.roles.split(","))]
        duty = {d.staff_id for d in await on_duty(session, utcnow())}
    available = {r.staff_id for r in await transfers.receivers(services)}
    return web.json_response({"staff": [{
        "id": u.id, "name": u.display_name or u.username, "roles": u.roles.split(","),
        "on_duty": u.id in duty, "presence": seen[u.id].status if u.id in seen and seen[u.id].present() else "offline",
        "load": sum(1 for h in claims.values() if h.counsellor_id == u.id), "cap": u.max_chats,
        "available": u.id in available,
        "languages": u.languages} for u in users]})


@require_role("supervisor")
async def overview(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    names = await record.staff_names(services)
    order = {case_id: n for n, case_id in enumerate(await CaseQueue(services.redis).waiting())}
    async with services.db() as session:
        rows = list(await session.scalars(select(Case).where(Case.status.in_(cases.OPEN))))
    rows.sort(key=lambda c: (c.status != "waiting", order.get(c.id, 10 ** 6), c.id))
    return web.json_response({"cases": [record.case_json(c, names) for c in rows]})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/console/api/queue", queue_view)
    app.router.add_post("/console/api/take", take)
    app.router.add_get("/console/api/staff", staff_view)
    app.router.add_get("/console/api/overview", overview)
    app.router.add_get(r"/console/api/cases/{case_id:\d+}", case_detail)
    app.router.add_post(r"/console/api/cases/{case_id:\d+}/messages", send_message)
    app.router.add_post(r"/console/api/cases/{case_id:\d+}/notes", add_note)
    app.router.add_post(r"/console/api/cases/{case_id:\d+}/messages/{message_id:\d+}/missed", missed)
    app.router.add_post(r"/console/api/cases/{case_id:\d+}/transfer", transfer)
    app.router.add_post(r"/console/api/cases/{case_id:\d+}/requeue", give_back)
    app.router.add_post(r"/console/api/cases/{case_id:\d+}/close", close)
    app.router.add_post(r"/console/api/callbacks/{callback_id:\d+}/done", callback_done)
