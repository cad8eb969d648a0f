"""The resident's last few messages, so risk spread over several short ones is read together.

"我想好了" / "今晚" / "药够了" reads as nothing one by one. In a turn the earlier messages come with the
resident's lock and this one is kept with its release (bot/stores/read_ahead.py), so the safety stage
adds no round trip of its own; elsewhere one round trip both returns what came before and keeps this
one. The texts live a few minutes only (they are health data: the transcript is their record, this is
a short working memory).
"""
from __future__ import annotations

import time

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from bot.stores import read_ahead

KEEP = 3  # messages before this one
WITHIN_SECONDS = 10 * 60
_SEP = "\x1f"


class RecentMessages:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    @staticmethod
    def key(openid: str) -> str:
        return f"xz:recent:{openid}"

    @staticmethod
    def read_in(pipe: Pipeline, key: str) -> None:
        """The read a turn sends with the resident's lock (flows/safety/web.py adds it)."""
        pipe.lrange(key, 0, KEEP - 1)

    async def exchange(self, openid: str, text: str) -> list[str]:
        """The resident's earlier messages of the last few minutes, oldest first; keeps `text`."""
        key, now = self.key(openid), time.time()

        def keep(pipe: Pipeline) -> None:
            pipe.lpush(key, f"{now:.0f}{_SEP}{text[:500]}")
            pipe.ltrim(key, 0, KEEP - 1)
            pipe.expire(key, WITHIN_SECONDS)

        before = read_ahead.read(key)
        if before is read_ahead.MISSING or not read_ahead.later(keep):
            async with self._redis.pipeline(transaction=True) as pipe:
                self.read_in(pipe, key)
                keep(pipe)
                before, *_ = await pipe.execute()
        recent = []
        for item in reversed(before):
            at, _, earlier = item.partition(_SEP)
            if at.isdigit() and now - int(at) <= WITHIN_SECONDS:
                recent.append(earlier)
        return recent

    async def forget(self, openid: str) -> None:
        await self._redis.delete(self.key(openid))
