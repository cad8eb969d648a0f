"""`/simulator`: the chat page, the send API that goes through the real `/wechat`, and the inbox.

Sending posts over real HTTP to the app's own webhook rather than calling the handler, so the
simulator sees exactly what the platform would: signatures, decryption, de-duplication, the
deadline and the passive reply all run as in production.
"""
from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
import aiohttp_jinja2
from aiohttp import web
from yarl import URL

from bot.appkeys import CONFIG, CRYPTO, HTTP
from bot.config import REAL_WECHAT_API
from bot.simulator import inbox, wire
from bot.wechat.menu import load_menu

log = logging.getLogger(__name__)

WEBHOOK_TIMEOUT = aiohttp.ClientTimeout(total=15)  # the webhook answers within its deadline (~4 s)
# The account's menu as the page shows it until the mock reports the one the platform would show
# this resident (the default menu, or their language's conditional menu once published).
DEFAULT_MENU = inbox.to_menu(load_menu())
# Points in the demo city 清溪市 (around 30.6N 114.3E), one per area, so "nearest station" can be
# tried without typing coordinates.
PLACES = [
    {"label": "清溪市清河区解放街道", "lat": 30.5900, "lon": 114.2800},
    {"label": "清溪市清河区滨江街道", "lat": 30.6280, "lon": 114.2700},
    {"label": "清溪市东湖区关山街道", "lat": 30.5950, "lon": 114.3620},
    {"label": "清溪市南山区纸坊街道", "lat": 30.4780, "lon": 114.2940},
]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _own_origin(request: web.Request) -> URL:
    """The address this request arrived on, so the webhook call stays local even behind a proxy."""
    sock = request.transport.get_extra_info("sockname") if request.transport else None
    if isinstance(sock, tuple) and len(sock) >= 2:
        return URL.build(scheme="http", host=sock[0], port=sock[1])
    return request.url.origin()


@aiohttp_jinja2.template("simulator.html")
async def page(request: web.Request) -> dict:
    config = request.app[CONFIG]
    return {"boot": {"account": wire.ACCOUNT, "menu": DEFAULT_MENU, "places": PLACES,
                     "encrypted": config.encrypted}}


async def send(request: web.Request) -> web.Response:
    """Turn the page's request into a signed platform message, post it to `/wechat`, read the answer."""
    try:
        msg = wire.from_json(await request.json())
    except ValueError as exc:  # BadInput, or a body that is not JSON
        return _error(400, str(exc) if isinstance(exc, wire.BadInput) else "the body must be JSON")
    crypto = request.app.get(CRYPTO)
    envelope = wire.seal(wire.to_xml(msg, now=int(time.time())), openid=msg.openid,
                         token=request.app[CONFIG].wechat_token, crypto=crypto)
    url = _own_origin(request).with_path("/wechat").with_query(envelope.query)
    try:
        async with request.app[HTTP].post(url, data=envelope.body.encode(), timeout=WEBHOOK_TIMEOUT,
                                          headers={"Content-Type": "text/xml"}) as resp:
            status, body = resp.status, await resp.text()
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        log.warning("simulator could not reach the webhook", extra={"error": type(exc).__name__})
        return _error(502, f"the webhook did not answer ({type(exc).__name__})")
    if status != 200:
        return web.json_response({"status": status, "reply": None, "error": body[:200]})
    try:
        reply = wire.open_reply(body, crypto)
    except Exception as exc:  # the webhook's answer is the thing under test: report, don't crash
        log.warning("simulator could not read the webhook's reply", extra={"error": type(exc).__name__})
        return _error(502, f"the webhook's reply could not be read ({type(exc).__name__})")
    return web.json_response({"status": status, "reply": reply})


async def inbox_messages(request: web.Request) -> web.Response:
    """Customer-service and template messages for one resident, proxied from the mock WeChat API."""
    openid = request.query.get("openid", "")
    if not wire.OPENID.fullmatch(openid):
        return _error(400, "openid must be 1-64 letters, digits, '-' or '_'")
    try:
        after = int(request.query.get("after", "0"))
    except ValueError:
        return _error(400, "after must be a whole number")
    config = request.app[CONFIG]
    try:
        data = await inbox.fetch_sent(request.app[HTTP], config.wechat_api_base, openid, after)
    except inbox.NoMock:
        return _error(404, "live messages need the mock WeChat API; XZ_WECHAT_API_BASE does not point to one")
    except inbox.MockDown as exc:
        return _error(502, f"the mock WeChat API did not answer ({exc})")
    return web.json_response(data)


def setup_app(app: web.Application) -> None:
    """Only when asked for (XZ_SIMULATOR, which the demo sets), and never against the real WeChat API:
    anyone could then speak as any real resident and read the answers. A mock-looking API base is not
    enough on its own: a deployment may reach the real platform through a forwarding proxy."""
    config = app[CONFIG]
    if not config.simulator or config.wechat_api_base == REAL_WECHAT_API:
        log.info("simulator off", extra={"asked": config.simulator})
        return
    app.router.add_get("/simulator", page)
    app.router.add_post("/simulator/api/send", send)
    app.router.add_get("/simulator/api/inbox", inbox_messages)
