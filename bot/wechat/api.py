"""The outbound WeChat API client: non-blocking, one access_token shared by every worker.

The platform invalidates the old token shortly after a new one is fetched, so only one process
refreshes (under a Redis lock) and everyone reads the shared copy.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass

import aiohttp
import redis.asyncio as aioredis

from bot import metrics
from bot.values import Reply

log = logging.getLogger(__name__)

TOKEN_KEY = "xz:wechat:access_token"
TOKEN_LOCK = "xz:wechat:access_token:lock"
TOKEN_INVALID = {40001, 40014, 42001}
TRANSIENT = {-1, 45009}
# Our own codes for what the platform never answered. Only those where the request certainly did not
# do its work are retried: a send whose answer was lost may have reached the resident already.
HTTP_5XX, UNREACHABLE, NO_ANSWER, NOT_JSON = -2, -3, -5, -4
NOT_DONE = {HTTP_5XX, UNREACHABLE}
WINDOW_CLOSED = 45015
WINDOW_SPENT = 45047


class WeChatAPIError(Exception):
    def __init__(self, errcode: int, errmsg: str, path: str) -> None:
        super().__init__(f"WeChat API {path} failed: {errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.path = path

    @property
    def transient(self) -> bool:
        """Safe to try again: the platform said so, or the request never got through."""
        return self.errcode in TRANSIENT or self.errcode in NOT_DONE


@dataclass(frozen=True)
class Sent:
    msgid: str = ""


class WeChatAPI:
    def __init__(self, session: aiohttp.ClientSession, redis: aioredis.Redis, *, base: str, appid: str,
                 secret: str, retries: int = 3, backoff: float = 0.5, timeout: float = 5.0) -> None:
        self._session = session
        self._redis = redis
        self._base = base.rstrip("/")
        self._appid = appid
        self._secret = secret
        self._retries = retries
        self._backoff = backoff
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def access_token(self) -> str:
        token = await self._redis.get(TOKEN_KEY)
        if token:
            return token
        async with self._redis.lock(TOKEN_LOCK, timeout=15, blocking_timeout=15, sleep=0.05):
            token = await self._redis.get(TOKEN_KEY)  # another worker may have refreshed meanwhile
            if token:
                return token
            data = await self._get("/cgi-bin/token", {"grant_type": "client_credential",
                                                      "appid": self._appid, "secret": self._secret})
            token = data["access_token"]
            ttl = max(60, int(data.get("expires_in", 7200)) - 300)
            await self._redis.set(TOKEN_KEY, token, ex=ttl)
            metrics.TOKEN_REFRESHES.inc()
            return token

    async def _drop_token(self, token: str) -> None:
        """Forget the token only if it is still the one that failed, so we refresh once, not per worker."""
        async with self._redis.lock(TOKEN_LOCK, timeout=15, blocking_timeout=15, sleep=0.05):
            if await self._redis.get(TOKEN_KEY) == token:
                await self._redis.delete(TOKEN_KEY)

    async def _get(self, path: str, params: dict) -> dict:
        return await self._request("GET", path, params=params)

    async def _request(self, method: str, path: str, **kwargs) -> dict:
        started = time.perf_counter()
        try:
            async with self._session.request(method, self._base + path, timeout=self._timeout, **kwargs) as resp:
                text = await resp.text()
                if resp.status >= 500:
                    raise WeChatAPIError(HTTP_5XX, f"http {resp.status}", path)
        except aiohttp.ClientConnectorError as exc:  # no connection: nothing was sent
            raise WeChatAPIError(UNREACHABLE, type(exc).__name__, path) from None
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:  # sent, but the answer never came
            raise WeChatAPIError(NO_ANSWER, type(exc).__name__, path) from None
        finally:
            metrics.API_SECONDS.labels(path=path).observe(time.perf_counter() - started)
        try:
            data = json.loads(text)
        except ValueError:
            raise WeChatAPIError(NOT_JSON, "non-json answer", path) from None
        if data.get("errcode", 0) != 0:
            raise WeChatAPIError(int(data["errcode"]), str(data.get("errmsg", "")), path)
        return data

    async def call(self, path: str, payload: dict) -> dict:
        """POST with the shared token: refresh once on an invalid token, back off on transient errors."""
        refreshed = False
        attempt = 0
        while True:
            token = await self.access_token()
            try:
                body = json.dumps(payload, ensure_ascii=False).encode()
                data = await self._request("POST", path, params={"access_token": token}, data=body,
                                           headers={"Content-Type": "application/json"})
                metrics.API_CALLS.labels(path=path, outcome="ok").inc()
                return data
            except WeChatAPIError as err:
                metrics.API_CALLS.labels(path=path, outcome=str(err.errcode)).inc()
                if err.errcode in TOKEN_INVALID and not refreshed:
                    refreshed = True
                    await self._drop_token(token)
                    continue
                attempt += 1
                if err.transient and attempt < self._retries:
                    log.warning("wechat api transient error", extra={"path": path, "errcode": err.errcode,
                                                                     "attempt": attempt})
                    await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
                    continue
                log.warning("wechat api error", extra={"path": path, "errcode": err.errcode})
                raise

    async def send_reply(self, openid: str, reply: Reply) -> Sent:
        """A customer-service message (text or news), allowed within 48 h of the resident's last message."""
        if reply.text:
            payload = {"touser": openid, "msgtype": "text", "text": {"content": reply.text}}
        else:
            articles = [{"title": a.title, "description": a.description, "url": a.url, "picurl": a.image}
                        for a in reply.articles[:8]]
            payload = {"touser": openid, "msgtype": "news", "news": {"articles": articles}}
        data = await self.call("/cgi-bin/message/custom/send", payload)
        return Sent(str(data.get("msgid", "")))

    async def send_template(self, openid: str, template_id: str, fields: dict[str, str], url: str = "",
                            client_msg_id: str = "") -> Sent:
        """`client_msg_id`: the platform sends one message per (openid, id) within about 10 minutes,
        so a send whose answer was lost can be repeated with the same id."""
        payload = {"touser": openid, "template_id": template_id,
                   "data": {k: {"value": v} for k, v in fields.items()}}
        if url:
            payload["url"] = url
        if client_msg_id:
            payload["client_msg_id"] = client_msg_id
        data = await self.call("/cgi-bin/message/template/send", payload)
        return Sent(str(data.get("msgid", "")))

    async def create_menu(self, menu: dict) -> None:
        await self.call("/cgi-bin/menu/create", menu)
