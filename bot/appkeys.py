"""Typed keys for what the application holds; handlers read `request.app[KEY]`, never globals."""
from __future__ import annotations

import aiohttp
from aiohttp import web
from wechatpy.crypto import WeChatCrypto

from bot.config import Config
from bot.degraded import CrisisAnswer
from bot.services import Services
from knowledge.library import Knowledge

CONFIG = web.AppKey("config", Config)
SERVICES = web.AppKey("services", Services)
HTTP = web.AppKey("http", aiohttp.ClientSession)
CRYPTO = web.AppKey("crypto", WeChatCrypto)
KNOWLEDGE = web.AppKey("knowledge", Knowledge)  # set before start to serve other content (tests)
CRISIS_WITHOUT_REDIS = web.AppKey("crisis_without_redis", CrisisAnswer)  # set by flows.safety
