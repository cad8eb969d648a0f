"""The review pages that are about people rather than transcripts: the audit trail, quality
reviews, retention holds and data-subject requests."""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from bot import localtime
from bot.appkeys import SERVICES
from bot.auth import current_user, require_role
from bot.db import utcnow
from bot.labels import LABELS
from handoff.models import Case
from handoff.review import audit, conversation, quality, requests as data_requests
from handoff.review.access import case_visible
from handoff.review.models import ACTIONS, RetentionHold


def _day(value: str, name: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(value), time(), localtime.zone()) if value else None
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be a date like 2024-05-01") from None


@require_role("supervisor")
async def audit_page(request: web.Request) -> web.Response:
    q = request.query
    until = _day(q.get("until", ""), "until")
    before = q.get("before", "")
    f = audit.AuditFilter(staff=q.get("staff", "").strip(), action=q.get("action", ""),
                          target_type=q.get("target_type", "").strip(), target_id=q.get("target_id", "").strip(),
                          since=_day(q.get("since", ""), "since"), until=until + timedelta(days=1) if until else None,
                          before=int(before) if before.isdigit() else None)
    async with request.app[SERVICES].db() as session:
        entries = await audit.entries(session, f)
    more = entries[-1].id if len(entries) == audit.PAGE else None
    if request.headers.get("Accept") == "application/json":
        return web.json_response({"entries": [_entry_json(e) for e in entries], "before": more})
    targets = sorted(request.app[LABELS].table().get("target", {}))
    return aiohttp_jinja2.render_template("review_audit.html", request, {"entries": entries, "query": q, "more": more,
                                                                         "actions": ACTIONS, "targets": targets})


def _entry_json(e) -> dict:
    return {"id": e.id, "staff_id": e.staff_id, "staff": e.staff_name, "action": e.action,
            "target_type": e.target_type, "target_id": e.target_id, "summary": e.summary,
            "remote_addr": e.remote_addr, "user_agent": e.user_agent, "created_at": localtime.iso(e.created_at)}


async def _case(request: web.Request) -> Case:
    async with request.app[SERVICES].db() as session:
        case = await session.get(Case, int(request.match_info["id"]))
    if case is None:
        raise web.HTTPNotFound(text="没有这个个案")
    return case


async def _quality_page(request: web.Request, case: Case, error: str = "", form=None,
                        status: int = 200) -> web.Response:
    """The checklist beside the whole case; reading the case's messages is audited like any view."""
    user = await current_user(request)
    async with request.app[SERVICES].db() as session:
        reading = await conversation.load_case(session, case, user)
    await audit.record(request.app[SERVICES].db, request, user, "view", "case", case.id,
                       f"quality messages={len(reading.turns)}")
    return aiohttp_jinja2.render_template("review_quality.html", request, {
        "case": case, "reading": reading, "items": quality.checklist(), "error": error, "form": form or {}},
        status=status)


@require_role("reviewer")
async def quality_form(request: web.Request) -> web.Response:
    case = await _case(request)
    if not case_visible(await current_user(request), case):
        raise web.HTTPForbidden(text="只能评审已结案的个案")
    return await _quality_page(request, case)


@require_role("reviewer")
async def quality_submit(request: web.Request) -> web.Response:
    case, user = await _case(request), await current_user(request)
    if not case_visible(user, case):
        raise web.HTTPForbidden(text="只能评审已结案的个案")
    form = await request.post()
    answers = {item.key: str(form.get(item.key, "")) for item in quality.checklist()}
    try:
        async with request.app[SERVICES].db.begin() as session:
            review = await quality.save_review(session, case, user.id, answers, str(form.get("comments", "")))
    except quality.QualityError as exc:
        return await _quality_page(request, case, str(exc), form, status=400)
    await audit.record(request.app[SERVICES].db, request, user, "quality", "case", case.id, f"score={review.score}")
    raise web.HTTPSeeOther(f"/review/conversations/{case.conversation_id}")


@require_role("counsellor")
async def my_reviews(request: web.Request) -> web.Response:
    user = await current_user(request)
    async with request.app[SERVICES].db() as session:
        reviews = await quality.reviews_of(session, user.id)
    return aiohttp_jinja2.render_template("review_mine.html", request,
                                          {"reviews": reviews, "items": {i.key: i for i in quality.checklist()}})


@require_role("supervisor")
async def hold_case(request: web.Request) -> web.Response:
    case, user = await _case(request), await current_user(request)
    form = await request.post()
    async with request.app[SERVICES].db.begin() as session:
        held = await session.scalar(select(RetentionHold).where(RetentionHold.case_id == case.id,
                                                                RetentionHold.released_at.is_(None)))
        if held is None:
            session.add(RetentionHold(case_id=case.id, reason=str(form.get("reason", ""))[:255], held_by=user.id,
                                      held_at=utcnow()))
    await audit.record(request.app[SERVICES].db, request, user, "hold", "case", case.id)
    raise web.HTTPSeeOther(f"/review/conversations/{case.conversation_id}")


@require_role("supervisor")
async def release_case(request: web.Request) -> web.Response:
    case, user = await _case(request), await current_user(request)
    async with request.app[SERVICES].db.begin() as session:
        for hold in await session.scalars(select(RetentionHold).where(RetentionHold.case_id == case.id,
                                                                      RetentionHold.released_at.is_(None))):
            hold.released_at, hold.released_by = utcnow(), user.id
    await audit.record(request.app[SERVICES].db, request, user, "release", "case", case.id)
    raise web.HTTPSeeOther(f"/review/conversations/{case.conversation_id}")


@require_role("supervisor")
async def requests_page(request: web.Request) -> web.Response:
    async with request.app[SERVICES].db() as session:
        rows = await data_requests.pending_first(session)
    return aiohttp_jinja2.render_template("review_requests.html", request,
                                          {"requests": rows, "error": request.query.get("error", "")})


@require_role("supervisor")
async def decide_request(request: web.Request) -> web.Response:
    services, user = request.app[SERVICES], await current_user(request)
    approve = request.match_info["decision"] == "approve"
    request_id = int(request.match_info["id"])
    form = await request.post()
    try:
        decision = await data_requests.decide(services, request_id, user.id, approve, str(form.get("note", "")))
    except data_requests.RequestError as exc:
        raise web.HTTPConflict(text=str(exc)) from None
    kind = decision.request.kind
    await audit.record(services.db, request, user, "request", "request", request_id,
                       f"{kind} {'approved' if approve else 'rejected'}")
    if approve and kind == "delete":
        if decision.openid:
            await services.states.clear(decision.openid)
        await audit.record(services.db, request, user, "delete", "resident", decision.resident_id or "",
                           f"data-subject request {request_id}")
    if approve and kind == "export" and decision.data is not None:
        await audit.record(services.db, request, user, "export", "resident", decision.resident_id or "",
                           f"data-subject request {request_id} json tables={len(decision.data)}")
        body = json.dumps({"request_id": request_id, "resident_id": decision.resident_id,
                           "exported_at": localtime.iso(utcnow()), "data": decision.data}, ensure_ascii=False, indent=1)
        return web.Response(text=body, content_type="application/json", charset="utf-8", headers={
            "Content-Disposition": f'attachment; filename="xinzhan-request-{request_id}.json"'})
    raise web.HTTPSeeOther("/review/requests")


def add_staff_routes(app: web.Application) -> None:
    app.router.add_get("/review/audit", audit_page)
    app.router.add_get(r"/review/cases/{id:\d+}/quality", quality_form)
    app.router.add_post(r"/review/cases/{id:\d+}/quality", quality_submit)
    app.router.add_post(r"/review/cases/{id:\d+}/hold", hold_case)
    app.router.add_post(r"/review/cases/{id:\d+}/release", release_case)
    app.router.add_get("/review/mine", my_reviews)
    app.router.add_get("/review/requests", requests_page)
    app.router.add_post(r"/review/requests/{id:\d+}/{decision:approve|reject}", decide_request)
