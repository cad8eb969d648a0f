"""The customer-service message allowance per resident.

Since 2023 the platform allows about 5 customer-service messages in the 48 hours after a
resident's message (3 after a menu click, follow or scan alone). We count what is left so a
counsellor or a campaign sees it before the platform says 45015/45047.
"""
from __future__ import annotations

import redis.asyncio as aioredis

WINDOW_SECONDS = 48 * 3600
AFTER_MESSAGE = 5
AFTER_EVENT = 3
_TAKE = """
local left = tonumber(redis.call('GET', KEYS[1]) or '0')
if left <= 0 then return 0 end
redis.call('DECR', KEYS[1])
return 1
"""


class CsWindow:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._take = redis.register_script(_TAKE)

    @staticmethod
    def _key(openid: str) -> str:
        return f"xz:cswindow:{openid}"

    async def opened(self, openid: str, *, by_message: bool) -> None:
        """A resident's message resets the allowance; an event alone grants the smaller one if none is open."""
        key = self._key(openid)
        if by_message:
            await self._redis.set(key, AFTER_MESSAGE, ex=WINDOW_SECONDS)
        else:
            await self._redis.set(key, AFTER_EVENT, ex=WINDOW_SECONDS, nx=True)

    def open_in(self, pipe, openid: str, *, by_message: bool) -> None:
        """`opened`, as a command in a pipeline the caller sends (the turn's first round trip)."""
        if by_message:
            pipe.set(self._key(openid), AFTER_MESSAGE, ex=WINDOW_SECONDS)
        else:
            pipe.set(self._key(openid), AFTER_EVENT, ex=WINDOW_SECONDS, nx=True)

    async def remaining(self, openid: str) -> int:
        return int(await self._redis.get(self._key(openid)) or 0)

    async def take(self, openid: str) -> bool:
        """Spend one message of the allowance; False when the window is closed or spent."""
        return bool(await self._take(keys=[self._key(openid)]))
