"""The console's API for reading a case's whole history page by page, and the resident's earlier cases inline.

The case view carries the newest page (handoff.api.case_detail); older pages and earlier cases come
from here on demand, so a long case is never cut and a short one costs one request.
"""
from __future__ import annotations

from aiohttp import web

from bot.appkeys import SERVICES
from bot.auth import current_user, require_role
from bot.labels import LABELS
from handoff import cases, history
from handoff.api import STAFF, _audit_watch, _error, _existing_case, _may_see


@require_role(*STAFF)
async def case_history(request: web.Request) -> web.Response:
    """A page of the case's history before `before`; with `of`, of one of the resident's earlier, closed
    cases, read by the case's holder or a supervisor (an access to that case, audited as one)."""
    services, user = request.app[SERVICES], await current_user(request)
    case = await _existing_case(request)
    if not _may_see(user, case):
        return _error(403, "只有接手的咨询师和督导可以查看这个个案")
    try:
        before = history.Key.decode(request.query["before"]) if request.query.get("before") else None
    except history.BadCursor:
        return _error(400, "before 参数无效，请刷新后重试")
    shown = case
    if request.query.get("of"):
        if not (user.has("supervisor") or case.counsellor_id == user.id):
            return _error(403, "接手这个个案后才能查看来访者的既往个案")
        shown = await _earlier_case(services, case, request.query["of"])
        if shown is None:
            return _error(404, "这位来访者没有这个已结案的个案")
        await _audit_watch(request, user, shown, f"console earlier case, from #{case.id}")
    elif case.counsellor_id != user.id:
        await _audit_watch(request, user, case)
    return web.json_response((await history.page(services, shown, request.app[LABELS], before)).json())


async def _earlier_case(services, case, raw: str):
    """The resident's closed case `raw` names, or None when it is not one."""
    if not raw.isdigit():
        return None
    try:
        earlier = await cases.get_case(services, int(raw))
    except cases.CaseError:
        return None
    if earlier.resident_id != case.resident_id or earlier.status != "closed" or earlier.id == case.id:
        return None
    return earlier


def setup_routes(app: web.Application) -> None:
    app.router.add_get(r"/console/api/cases/{case_id:\d+}/history", case_history)
