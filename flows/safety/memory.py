"""The highest risk a resident showed recently, so it raises the reading of what they say next.

Someone who wrote that life feels pointless and, a few messages later, that they have saved up
twenty pills: the second message only reads as danger with the first in mind. The memory fades
after `KEEP_SECONDS` without a new reading.
"""
from __future__ import annotations

import redis.asyncio as aioredis

from bot.stores import read_ahead

KEEP_SECONDS = 2 * 3600


class RiskMemory:
    def __init__(self, redis: aioredis.Redis, keep_seconds: int = KEEP_SECONDS) -> None:
        self._redis = redis
        self._keep = keep_seconds

    @staticmethod
    def key(openid: str) -> str:
        return f"xz:risk:{openid}"

    async def level(self, openid: str) -> int:
        key = self.key(openid)
        raw = read_ahead.read(key)  # read with the resident's lock (flows/safety/web.py adds the key)
        if raw is read_ahead.MISSING:
            raw = await self._redis.get(key)
        return int(raw) if raw else 0

    async def remember(self, openid: str, level: int, known: int) -> None:
        """Keep `level` if it is at least what is remembered (`known`, read this turn); a new reading renews it.

        Callers hold the resident's lock, so read-then-write cannot interleave with another turn.
        """
        if level > 0 and level >= known:
            await self._redis.set(self.key(openid), int(level), ex=self._keep)
            read_ahead.wrote(self.key(openid), str(int(level)))

    async def forget(self, openid: str) -> None:
        await self._redis.delete(self.key(openid))
        read_ahead.wrote(self.key(openid), None)
