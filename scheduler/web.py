"""The scheduler plugin: its services, its pipeline stage, the leader-elected engine, and the admin's pages
(the dashboard, campaigns and audiences, tags and their CSV import, events, knowledge, staff)."""
from __future__ import annotations

from typing import AsyncIterator

from aiohttp import web

from bot.appkeys import CONFIG, SERVICES
from bot.config import SchedulerSettings
from bot.pipeline import ORDER_PLATFORM_EVENTS
from bot.tasks import TaskSet
from scheduler.engine import Engine
from scheduler.outreach import OUTREACH, Outreach
from scheduler.reports import platform_events_stage
from scheduler.template_catalog import catalogue

SETTINGS = web.AppKey("scheduler_settings", SchedulerSettings)
ENGINE = web.AppKey("scheduler_engine", Engine)


async def scheduler_services(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    catalogue()  # a bad template catalogue stops the service at start, naming its line
    settings = (app.get(SETTINGS) or app[CONFIG].scheduler).with_(timezone=app[CONFIG].timezone)  # one local zone
    out = Outreach(services, settings)
    app[OUTREACH] = out
    services.pipeline.add(ORDER_PLATFORM_EVENTS, "scheduler.platform_events", platform_events_stage(services))
    engine = Engine(out, app[CONFIG].database_url)
    app[ENGINE] = engine
    loops = TaskSet()  # a forever-loop, kept out of services.tasks (per-turn work that callers drain)
    if out.settings.scheduler_enabled:
        loops.start(engine.run(), name="scheduler-engine")
    yield
    await loops.drain(0)


def setup_app(app: web.Application) -> None:
    from scheduler import admin, admin_knowledge, admin_staff, admin_tag_import, admin_tags, dashboard

    app.cleanup_ctx.append(scheduler_services)
    for pages in (dashboard, admin, admin_tags, admin_tag_import, admin_knowledge, admin_staff):
        pages.setup_routes(app)
    _setup_events_admin(app)


def _setup_events_admin(app: web.Application) -> None:
    """Events are the flows package's: without it the events admin has nothing to edit."""
    try:
        from scheduler import admin_events
    except ModuleNotFoundError as exc:
        if exc.name != "flows":
            raise
        return
    admin_events.setup_routes(app)


async def seed_demo(app: web.Application) -> None:
    from scheduler.seed import seed

    await seed(app[OUTREACH])
