"""The console's API for answering transfers and for supervisors stepping in.

Accept and refuse belong to the transfer's receiver (a named colleague, or any supervisor for the
pool); whisper, take over and reassign to supervisors. Writes carry the CSRF token like the rest.
Each step-in is in the case timeline (handoff.stepin) and in the audit trail: a supervisor reaching
into someone's live case is an access to its transcript.
"""
from __future__ import annotations

from aiohttp import web

from bot.appkeys import SERVICES
from bot.auth import current_user, require_role
from handoff import cases, record, stepin, transfers
from handoff.api import STAFF, _body, _error, _existing_case
from handoff.review import audit

SUPERVISOR = "supervisor"


@require_role(*STAFF)
async def accept_transfer(request: web.Request) -> web.Response:
    user = await current_user(request)
    case = await _existing_case(request)
    try:
        case = await transfers.accept(request.app[SERVICES], case.id, user)
    except cases.CaseError as err:
        return _error(409, str(err))
    return web.json_response({"case": record.case_json(case)})


@require_role(*STAFF)
async def refuse_transfer(request: web.Request) -> web.Response:
    user = await current_user(request)
    case = await _existing_case(request)
    try:
        await transfers.refuse(request.app[SERVICES], case.id, user)
    except cases.CaseError as err:
        return _error(409, str(err))
    return web.json_response({"ok": True})


@require_role(SUPERVISOR)
async def whisper(request: web.Request) -> web.Response:
    user = await current_user(request)
    case = await _existing_case(request)
    try:
        said = await stepin.whisper(request.app[SERVICES], case, user.id, str((await _body(request)).get("body", "")))
    except cases.CaseError as err:
        return _error(409 if case.status != "active" else 400, str(err))
    await _audit(request, user, "whisper", case.id, f"note={said['id']} to={case.counsellor_id}")
    return web.json_response({"note": said})


@require_role(SUPERVISOR)
async def take_over(request: web.Request) -> web.Response:
    user = await current_user(request)
    case = await _existing_case(request)
    try:
        moved = await stepin.take_over(request.app[SERVICES], case, user.id)
    except cases.CaseError as err:
        return _error(409, str(err))
    await _audit(request, user, "take_over", case.id, f"from={case.counsellor_id}")
    return web.json_response({"case": record.case_json(moved)})


@require_role(SUPERVISOR)
async def reassign(request: web.Request) -> web.Response:
    user = await current_user(request)
    case = await _existing_case(request)
    to = (await _body(request)).get("to")
    if not isinstance(to, int) or isinstance(to, bool):
        return _error(400, "请选择要改派的咨询师")
    try:
        moved = await stepin.reassign(request.app[SERVICES], case, user.id, to)
    except cases.CaseError as err:
        return _error(409, str(err))
    await _audit(request, user, "reassign", case.id, f"from={case.counsellor_id} to={to}")
    return web.json_response({"case": record.case_json(moved)})


async def _audit(request: web.Request, user, action: str, case_id: int, summary: str) -> None:
    await audit.record(request.app[SERVICES].db, request, user, action, "case", case_id, summary)


def setup_routes(app: web.Application) -> None:
    base = r"/console/api/cases/{case_id:\d+}"
    app.router.add_post(base + "/transfer/accept", accept_transfer)
    app.router.add_post(base + "/transfer/refuse", refuse_transfer)
    app.router.add_post(base + "/whisper", whisper)
    app.router.add_post(base + "/takeover", take_over)
    app.router.add_post(base + "/reassign", reassign)
