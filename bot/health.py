"""`/healthz` (database and Redis reachable) and `/metrics` (Prometheus)."""
from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from bot.appkeys import SERVICES


async def _check(coro) -> str:
    try:
        await asyncio.wait_for(coro, timeout=2)
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


async def _db_ping(services) -> None:
    async with services.db() as session:
        await session.execute(text("SELECT 1"))


async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    checks = {"database": await _check(_db_ping(services)), "redis": await _check(services.redis.ping())}
    healthy = all(v == "ok" for v in checks.values())
    return web.json_response({"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503)


async def metrics_view(request: web.Request) -> web.Response:
    resp = web.Response(body=generate_latest())
    resp.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return resp


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_view)
