"""The mock WeChat API as an aiohttp application, mountable under a prefix or served alone.

It implements the endpoints xinzhan calls (token, customer-service, template, menus, tags), keeps what
was sent per resident, and can inject errcodes, delays and a rate limit through `/mock/*`.
"""
from __future__ import annotations

import asyncio
import json

from aiohttp import web

from bot.mock_wechat import menus
from bot.mock_wechat.state import Fault, MockState

MOCK_STATE = web.AppKey("mock_state", MockState)
LATE_BY = web.RequestKey("late_by", float)


async def _late(request: web.Request, response: web.Response) -> web.Response:
    """The message is already recorded; its answer waits (a caller giving up does not undo it)."""
    await asyncio.sleep(request.get(LATE_BY, 0.0))
    return response


def _error(errcode: int, errmsg: str) -> web.Response:
    return web.json_response({"errcode": errcode, "errmsg": errmsg})


async def token(request: web.Request) -> web.Response:
    state = request.app[MOCK_STATE]
    q = request.query
    if q.get("appid") != state.appid or q.get("secret") != state.secret:
        return _error(40013, "invalid appid or secret")
    return web.json_response({"access_token": state.issue_token(), "expires_in": 7200})


async def _guarded(request: web.Request, path: str) -> tuple[dict | None, web.Response | None]:
    """Shared checks for API calls: faults, rate limit, token, JSON body."""
    state = request.app[MOCK_STATE]
    state.calls += 1
    fault = state.take_fault(path)
    if fault is not None and fault.deliver_first:
        request[LATE_BY] = fault.delay
    elif fault is not None:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status:
            return None, web.Response(status=fault.status, text="injected gateway error")
        if fault.errcode:
            return None, _error(fault.errcode, "injected fault")
    if not state.rate.allow():
        return None, _error(45009, "reach max api daily quota limit")
    if not state.token_valid(request.query.get("access_token", "")):
        return None, _error(40001, "invalid credential, access_token is invalid or not latest")
    try:
        payload = json.loads(await request.read())
    except ValueError:
        return None, _error(47001, "data format error")
    if not isinstance(payload, dict) or not payload.get("touser", "x"):
        return None, _error(40003, "invalid openid")
    return payload, None


async def custom_send(request: web.Request) -> web.Response:
    payload, error = await _guarded(request, "/cgi-bin/message/custom/send")
    if error:
        return error
    if payload.get("msgtype") not in ("text", "news", "image", "msgmenu"):
        return _error(40008, "invalid message type")
    request.app[MOCK_STATE].record("custom", payload)
    return await _late(request, _error(0, "ok"))


async def template_send(request: web.Request) -> web.Response:
    payload, error = await _guarded(request, "/cgi-bin/message/template/send")
    if error:
        return error
    if not payload.get("template_id"):
        return _error(40037, "invalid template_id")
    item = request.app[MOCK_STATE].record_template(payload)
    return await _late(request, web.json_response({"errcode": 0, "errmsg": "ok", "msgid": item["seq"]}))


async def menu_create(request: web.Request) -> web.Response:
    payload, error = await _guarded(request, "/cgi-bin/menu/create")
    if error:
        return error
    if not isinstance(payload.get("button"), list) or not payload["button"]:
        return _error(40016, "invalid button size")
    request.app[MOCK_STATE].menu = payload
    return _error(0, "ok")


async def sent(request: web.Request) -> web.Response:
    """Control: what was sent to one resident after a sequence number (the simulator polls this)."""
    state = request.app[MOCK_STATE]
    try:
        after = int(request.query.get("after", "0"))
    except ValueError:
        raise web.HTTPBadRequest(text="after must be a number")
    openid = request.query.get("openid", "")
    items = state.sent_to(openid, after) if openid else [m for m in state.sent if m["seq"] > after]
    menu = request.app[menus.MENU_BOOK].menu_for(openid) if openid else state.menu  # what this resident sees
    return web.json_response({"messages": items, "menu": menu, "deduplicated": state.deduplicated})


async def faults(request: web.Request) -> web.Response:
    """Control: inject faults, e.g. {"path": "/cgi-bin/message/custom/send", "errcode": -1, "count": 2};
    "delay" (seconds), "status" (an HTTP error status instead of an errcode) and "deliver_first"
    (deliver at once, answer after the delay) are optional."""
    body = await request.json()
    try:
        fault = Fault(path=str(body["path"]), errcode=int(body.get("errcode", -1)),
                      count=int(body.get("count", 1)), delay=float(body.get("delay", 0)),
                      status=int(body.get("status", 0)), deliver_first=bool(body.get("deliver_first", False)))
    except (KeyError, TypeError, ValueError):
        raise web.HTTPBadRequest(text="fault needs path, and numeric errcode/count/delay")
    request.app[MOCK_STATE].faults.append(fault)
    return web.json_response({"ok": True})


async def rate(request: web.Request) -> web.Response:
    body = await request.json()
    request.app[MOCK_STATE].rate.per_second = float(body.get("per_second", 0))
    return web.json_response({"ok": True})


async def reset(request: web.Request) -> web.Response:
    request.app[MOCK_STATE].reset()
    request.app[menus.MENU_BOOK].reset()
    return web.json_response({"ok": True})


def create_mock_app(appid: str, secret: str) -> web.Application:
    app = web.Application()
    app[MOCK_STATE] = MockState(appid=appid, secret=secret)
    app.router.add_get("/cgi-bin/token", token)
    app.router.add_post("/cgi-bin/message/custom/send", custom_send)
    app.router.add_post("/cgi-bin/message/template/send", template_send)
    app.router.add_post("/cgi-bin/menu/create", menu_create)
    menus.setup(app, app[MOCK_STATE])
    app.router.add_get("/mock/sent", sent)
    app.router.add_post("/mock/faults", faults)
    app.router.add_post("/mock/rate", rate)
    app.router.add_post("/mock/reset", reset)
    return app
