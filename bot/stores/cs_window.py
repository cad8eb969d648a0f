"""The customer-service message allowance per resident.

Since 2023 the platform allows about 5 customer-service messages in the 48 hours after a
resident's message (3 after a menu click, follow or scan alone). We count what is left so a
counsellor or a campaign sees it before the platform says 45015/45047.
"""
from __future__ import annotations

import redis.asyncio as aioredis

from bot.stores.dedup import FirstWrite
from bot.transcript import is_transcribed
from bot.values import Inbound

WINDOW_SECONDS = 48 * 3600
AFTER_MESSAGE = 5
AFTER_EVENT = 3
RESIDENT_INITIATED = {"subscribe", "scan", "click", "view", "location"}  # events that grant the smaller allowance
_TAKE = """
local left = tonumber(redis.call('GET', KEYS[1]) or '0')
if left <= 0 then return 0 end
redis.call('DECR', KEYS[1])
return 1
"""


def opens(inbound: Inbound) -> bool:
    """Whether `inbound` (delivered by the platform, written or not) opens the allowance."""
    return is_transcribed(inbound) and inbound.event != "unsubscribe"


def by_message(inbound: Inbound) -> bool:
    return inbound.kind != "event" or inbound.event not in RESIDENT_INITIATED


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

    def open_in(self, pipe, inbound: Inbound) -> None:
        """`opened` for `inbound`, as commands in a pipeline the caller sends (the turn's first round trip)."""
        for write in self.opening(inbound):
            pipe.set(write.key, write.value, ex=write.seconds, nx=write.only_if_absent)

    def opening(self, inbound: Inbound) -> list[FirstWrite]:
        """`opened` for `inbound`, as the write its first delivery makes with the claim (a retry is the same message)."""
        if not opens(inbound):
            return []
        if by_message(inbound):
            return [FirstWrite(self._key(inbound.openid), AFTER_MESSAGE, WINDOW_SECONDS)]
        return [FirstWrite(self._key(inbound.openid), AFTER_EVENT, WINDOW_SECONDS, only_if_absent=True)]

    async def remaining(self, openid: str) -> int:
        return int(await self._redis.get(self._key(openid)) or 0)

    async def take(self, openid: str) -> bool:
        """Spend one message of the allowance; False when the window is closed or spent."""
        return bool(await self._take(keys=[self._key(openid)]))
