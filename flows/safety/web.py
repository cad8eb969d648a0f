"""The safety subpackage in the app: the detector and the screener loaded once, the stage at ORDER_SAFETY."""
from __future__ import annotations

import asyncio
import functools
from typing import AsyncIterator

from aiohttp import web

from bot.appkeys import CRISIS_WITHOUT_REDIS, SERVICES
from bot.pipeline import ORDER_SAFETY
from flows.safety.memory import RiskMemory
from flows.safety.recent import RecentMessages
from flows.safety.screener import Screener, screener
from flows.safety.stage import make_stage
from flows.safety.without_redis import crisis_answer
from knowledge.crisis import Detector

DETECTOR = web.AppKey("crisis_detector", Detector)
SCREENER = web.AppKey("safety_screener", Screener)


@functools.cache
def detector() -> Detector:
    """The lexicon is immutable data: one copy per process, however many apps (tests) it serves."""
    return Detector.load()


async def safety_services(app: web.Application) -> AsyncIterator[None]:
    """Loading the lexicon takes most of a second: once per worker, off the event loop, before any turn."""
    if DETECTOR not in app:
        app[DETECTOR] = await asyncio.to_thread(detector)
    app[SCREENER] = await asyncio.to_thread(screener)
    services = app[SERVICES]
    services.knowledge.texts.local("safety.urgent")  # the texts this path needs exist, or the start fails here
    services.pipeline.add(ORDER_SAFETY, "safety", make_stage(services, app[DETECTOR], app[SCREENER]))
    # read on every text: with the resident's lock, not after it
    services.read_ahead.add(RiskMemory.key)
    services.read_ahead.add(RecentMessages.key, RecentMessages.read_in)
    app[CRISIS_WITHOUT_REDIS] = crisis_answer(app[DETECTOR])
    yield


def setup_app(app: web.Application) -> None:
    app.cleanup_ctx.append(safety_services)
