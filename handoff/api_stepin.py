"""The console's API for answering transfers and for supervisors stepping in.

Accept and refuse belong to the transfer's receiver (a named colleague, or any supervisor for the
pool); whisper, take over and reassign to supervisors. Writes carry the CSRF token like the rest.
"""
from __future__ import annotations

from aiohttp import web

from bot.appkeys import SERVICES
from bot.auth import current_user, require_role
from handoff import cases, record, stepin, transfers
from handoff.api import STAFF, _body, _error, _existing_case

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
    return web.json_response({"note": said})


@require_role(SUPERVISOR)
async def take_over(request: web.Request) -> web.Response:
    user = await current_user(request)
    case = await _existing_case(request)
    try:
        case = await stepin.take_over(request.app[SERVICES], case, user.id)
    except cases.CaseError as err:
        return _error(409, str(err))
    return web.json_response({"case": record.case_json(case)})


@require_role(SUPERVISOR)
async def reassign(request: web.Request) -> web.Response:
    user = await current_user(request)
    case = await _existing_case(request)
    to = (await _body(request)).get("to")
    if not isinstance(to, int) or isinstance(to, bool):
        return _error(400, "请选择要改派的咨询师")
    try:
        case = await stepin.reassign(request.app[SERVICES], case, user.id, to)
    except cases.CaseError as err:
        return _error(409, str(err))
    return web.json_response({"case": record.case_json(case)})


def setup_routes(app: web.Application) -> None:
    base = r"/console/api/cases/{case_id:\d+}"
    app.router.add_post(base + "/transfer/accept", accept_transfer)
    app.router.add_post(base + "/transfer/refuse", refuse_transfer)
    app.router.add_post(base + "/whisper", whisper)
    app.router.add_post(base + "/takeover", take_over)
    app.router.add_post(base + "/reassign", reassign)
