"""The application factory: one `create_app(config)`, shared objects made in cleanup contexts."""
from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import AsyncIterator

import aiohttp
import aiohttp_jinja2
import jinja2
from aiohttp import web
from wechatpy.crypto import WeChatCrypto

from bot import health, labels, language, localtime, security_headers
from bot.appkeys import CONFIG, CRYPTO, HTTP, KNOWLEDGE, SERVICES
from bot.config import Config
from bot.db import make_autocommit_sessionmaker, make_engine, make_sessionmaker
from bot.logs import request_id
from bot.messenger import Messenger
from bot.modules import import_present
from bot.pipeline import Pipeline
from bot.redis_conn import connect_redis
from bot.services import Services
from bot.stores.cs_window import CsWindow
from bot.stores.dedup import DedupStore
from bot.spool_drain import keep_draining
from bot.stores.locks import ResidentLocks
from bot.stores.spool import Spool
from bot.stores.state import StateStore
from bot.tasks import TaskSet
from bot.transcript import Transcript
from bot.wechat import webhook
from bot.wechat.api import WeChatAPI
from knowledge.library import load_knowledge

log = logging.getLogger(__name__)

# Packages that plug into the app, in order; each has `setup_app(app)`. Missing ones are skipped
# so a package can be developed on its own.
PLUGINS = ("bot.auth.views", "flows.safety.web", "flows.web", "handoff.web", "handoff.review.web", "scheduler.web", "bot.simulator.web")
SHUTDOWN_GRACE = 10.0


@web.middleware
async def request_ids(request: web.Request, handler):
    """Tag each request's logs with an id (the caller's X-Request-Id if sent)."""
    token = request_id.set(request.headers.get("X-Request-Id") or uuid.uuid4().hex[:12])
    try:
        return await handler(request)
    finally:
        request_id.reset(token)


async def core_services(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    # content is read and checked once per worker, off the event loop: a bad file stops the start
    knowledge = app[KNOWLEDGE] if KNOWLEDGE in app else await asyncio.to_thread(load_knowledge)
    engine = make_engine(config.database_url)
    redis = connect_redis(config.redis_url)
    http = aiohttp.ClientSession()
    sessions, autocommit = make_sessionmaker(engine), make_autocommit_sessionmaker(engine)
    transcript = Transcript(engine)
    transcript.read_with_resident(language.CHOSEN, language.chosen_tag_id())  # the turn's reply language
    api = WeChatAPI(http, redis, base=config.wechat_api_base, appid=config.wechat_appid,
                    secret=config.wechat_secret)
    window = CsWindow(redis)
    tasks = TaskSet()
    app[HTTP] = http
    services = app[SERVICES] = Services(
        config=config, db=sessions, autocommit=autocommit, redis=redis, api=api, transcript=transcript,
        messenger=Messenger(api, window, transcript), states=StateStore(redis), locks=ResidentLocks(redis),
        dedup=DedupStore(redis), cs_window=window, pipeline=Pipeline(), tasks=tasks, spool=Spool(redis),
        knowledge=knowledge)
    services.read_ahead.add(StateStore.key)  # the router reads the flow state on every text
    app[labels.LABELS] = labels.Labels(knowledge.texts)
    if config.encrypted:
        app[CRYPTO] = WeChatCrypto(config.wechat_token, config.wechat_aes_key, config.wechat_appid)
    drainer = asyncio.create_task(keep_draining(services), name="spool-drain")
    yield
    drainer.cancel()
    await asyncio.gather(drainer, return_exceptions=True)
    await tasks.drain(SHUTDOWN_GRACE)
    await http.close()
    await redis.aclose()
    await engine.dispose()


def _templates(modules: list) -> jinja2.BaseLoader:
    dirs = [Path(__file__).parent / "templates"]
    dirs += [Path(m.__file__).parent / "templates" for m in modules]
    return jinja2.FileSystemLoader([str(d) for d in dirs if d.is_dir()])


def create_app(config: Config, *, plugins: tuple[str, ...] = PLUGINS) -> web.Application:
    app = web.Application(middlewares=[request_ids])
    app[CONFIG] = config
    localtime.use(config.timezone)
    app.cleanup_ctx.append(core_services)
    security_headers.setup(app)
    webhook.setup_routes(app)
    health.setup_routes(app)
    modules = import_present(plugins)
    env = aiohttp_jinja2.setup(app, loader=_templates(modules), autoescape=jinja2.select_autoescape(default=True))
    labels.setup_templates(env)
    localtime.setup_templates(env)
    for module in modules:
        module.setup_app(app)
    return app
