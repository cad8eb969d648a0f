"""`/healthz` (database and Redis reachable), `/metrics` (Prometheus) and the webhook's latency.

/metrics is meant for a scraper inside the network: with `XZ_METRICS_TOKEN` set it needs that
bearer token; without, the peer and every address in X-Forwarded-For must be private or
loopback, so a proxy that forwards a public visitor cannot open it by accident.
"""
from __future__ import annotations

import asyncio
import hmac
import ipaddress
import os
import time

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import text

from bot import metrics
from bot.appkeys import CONFIG, SERVICES
from bot.wechat.webhook import PATH as WEBHOOK_PATH


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


def _private(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback


def _metrics_refusal(request: web.Request) -> web.Response | None:
    token = request.app[CONFIG].metrics_token
    if token:
        sent = request.headers.get("Authorization", "").encode()
        if hmac.compare_digest(sent, f"Bearer {token}".encode()):
            return None
        return web.Response(status=401, text="bearer token required", headers={"WWW-Authenticate": "Bearer"})
    forwarded = [a for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    if all(_private(a) for a in [request.remote, *forwarded]):
        return None
    return web.Response(status=403, text="metrics are served to private addresses only")


def exposition() -> bytes:
    """This process's samples, or every worker's summed when serve set up the shared directory."""
    directory = os.environ.get(metrics.MULTIPROCESS_ENV)
    if not directory:
        return generate_latest()
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    return generate_latest(registry)


async def metrics_view(request: web.Request) -> web.Response:
    refused = _metrics_refusal(request)
    if refused is not None:
        return refused
    resp = web.Response(body=await asyncio.to_thread(exposition))  # reads the workers' files
    resp.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return resp


@web.middleware
async def time_webhook(request: web.Request, handler):
    """POST /wechat's whole answer time, refusals included, labelled by status."""
    if request.method != "POST" or request.path != WEBHOOK_PATH:
        return await handler(request)
    started, status = time.perf_counter(), 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = 499  # the caller went away
        raise
    finally:
        metrics.WEBHOOK_SECONDS.labels(status=str(status)).observe(time.perf_counter() - started)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_view)
    app.middlewares.append(time_webhook)
