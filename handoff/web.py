"""handoff plugs into the app: the turn stage, the sweep, the event hub, the console pages and API."""
from __future__ import annotations

import json
import logging
from typing import AsyncIterator

import aiohttp_jinja2
from aiohttp import WSMsgType, web

from bot.appkeys import SERVICES
from bot.auth import current_user, require_role
from bot.origin import same_origin
from bot.pipeline import ORDER_HANDOFF
from bot.tasks import TaskSet
from handoff import api, api_history, api_stepin, canned, followup_tasks
from handoff.hub import Hub, Viewer
from handoff.presence import BEAT_SECONDS, Presence
from handoff.roster import set_weekly
from handoff.stage import make_stage
from handoff.sweep import run_sweeps

log = logging.getLogger(__name__)

HUB = web.AppKey("handoff_hub", Hub)
STAFF = ("counsellor", "supervisor")


async def handoff_services(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    services.pipeline.add(ORDER_HANDOFF, "handoff", make_stage(services))
    hub = app[HUB] = Hub(services.redis)
    # Loops that live as long as the worker get their own TaskSet: services.tasks holds per-turn work
    # that callers wait to drain, which a forever-loop never would.
    loops = TaskSet()
    loops.start(hub.run(), name="handoff:hub")
    loops.start(run_sweeps(services), name="handoff:sweep")
    yield
    await loops.drain(0)


async def close_sockets(app: web.Application) -> None:
    if HUB in app:
        await app[HUB].close_all()


@require_role(*STAFF)
async def console_page(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template("console_queue.html", request, {"beat_seconds": BEAT_SECONDS})


@require_role("supervisor")
async def supervisor_page(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template("console_supervisor.html", request, {"beat_seconds": BEAT_SECONDS})


@require_role(*STAFF)
async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Live events for this user; the console beats presence (online/away) over the same socket."""
    if not same_origin(request):
        raise web.HTTPForbidden(text="只接受本站页面的连接 (Origin not allowed)")
    user = await current_user(request)
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    hub, presence = request.app[HUB], Presence(request.app[SERVICES].redis)
    hub.add(ws, Viewer(user.id, user.roles))
    await presence.beat(user.id, "online")
    await ws.send_json({"type": "hello", "user_id": user.id})
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                data = json.loads(msg.data)
            except ValueError:
                continue
            if isinstance(data, dict) and data.get("type") == "presence":
                await presence.beat(user.id, str(data.get("status", "online")))
    finally:
        hub.remove(ws)
    return ws


async def seed_demo(app: web.Application) -> None:
    """The demo's counsellor and supervisor accounts are on duty all week, round the clock."""
    from sqlalchemy import select

    from bot.models import StaffUser

    services = app[SERVICES]
    async with services.db.begin() as session:
        for username in ("counsellor", "supervisor"):
            user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
            if user is not None:
                await set_weekly(session, user.id, username, list(range(7)), "00:00", "24:00")


def setup_app(app: web.Application) -> None:
    app.cleanup_ctx.append(handoff_services)
    app.on_shutdown.append(close_sockets)
    app.router.add_get("/console", console_page)
    app.router.add_get("/console/supervisor", supervisor_page)
    app.router.add_get("/console/ws", websocket)
    api.setup_routes(app)
    followup_tasks.setup_routes(app)
    canned.setup_routes(app)
    api_stepin.setup_routes(app)
    api_history.setup_routes(app)
