"""The flows package in the app: the router stage, its part of the console's record, the record and
privacy pages, the APIs."""
from __future__ import annotations

import asyncio
from functools import partial
from typing import AsyncIterator

from aiohttp import web
from sqlalchemy import select

from bot import localtime
from bot.appkeys import SERVICES
from bot.db import utcnow
from bot.pipeline import ORDER_ROUTER
from flows import api
from flows.models import Event
from flows.privacy import PAGE as PRIVACY_PAGE, notice_text, privacy_page
from flows.record import record_page
from flows.router import Router
from flows.staff_record import staff_record
from knowledge.events_seed import load_event_seeds

__all__ = ["setup_app", "seed_demo"]


async def flows_services(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    notice_text(services.knowledge.texts, "zh-Hans", services.config.retention)  # a bad notice version stops the start
    services.pipeline.add(ORDER_ROUTER, "router", Router(services))
    services.record_parts.add(partial(staff_record, services.knowledge.stations))
    yield


def setup_app(app: web.Application) -> None:
    app.cleanup_ctx.append(flows_services)
    app.router.add_get("/record/{token}", record_page)
    app.router.add_get(PRIVACY_PAGE, privacy_page)
    api.setup_routes(app)


async def seed_demo(app: web.Application) -> None:
    """The demo events from knowledge/data/events.yaml, once each (matched by their seed id)."""
    knowledge = app[SERVICES].knowledge
    seeds = await asyncio.to_thread(load_event_seeds, utcnow(), localtime.zone(), knowledge.stations)
    async with app[SERVICES].db.begin() as session:
        known = set(await session.scalars(select(Event.seed_key).where(Event.seed_key.is_not(None))))
        for seed in seeds:
            if seed.id in known:
                continue
            session.add(Event(
                seed_key=seed.id, title_zh=seed.title.zh_hans, title_en=seed.title.en,
                description=seed.description.zh_hans, description_en=seed.description.en,
                starts_at=seed.starts_at.astimezone(utcnow().tzinfo), ends_at=seed.ends_at.astimezone(utcnow().tzinfo),
                station_id=seed.station, capacity=seed.capacity, audiences=list(seed.audiences), cancelled=False,
                created_at=utcnow()))
