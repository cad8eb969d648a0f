"""The resident's last few messages, so risk spread over several short ones is read together.

"我想好了" / "今晚" / "药够了" reads as nothing one by one. One Redis round trip per message both
returns what came before and keeps this one; the texts live a few minutes only (they are health
data: the transcript is their record, this is a short working memory).
"""
from __future__ import annotations

import time

import redis.asyncio as aioredis

KEEP = 3  # messages before this one
WITHIN_SECONDS = 10 * 60
_SEP = "\x1f"


class RecentMessages:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    @staticmethod
    def _key(openid: str) -> str:
        return f"xz:recent:{openid}"

    async def exchange(self, openid: str, text: str) -> list[str]:
        """The resident's earlier messages of the last few minutes, oldest first; keeps `text`."""
        key, now = self._key(openid), time.time()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lrange(key, 0, KEEP - 1)
            pipe.lpush(key, f"{now:.0f}{_SEP}{text[:500]}")
            pipe.ltrim(key, 0, KEEP - 1)
            pipe.expire(key, WITHIN_SECONDS)
            before, *_ = await pipe.execute()
        recent = []
        for item in reversed(before):
            at, _, earlier = item.partition(_SEP)
            if at.isdigit() and now - int(at) <= WITHIN_SECONDS:
                recent.append(earlier)
        return recent

    async def forget(self, openid: str) -> None:
        await self._redis.delete(self._key(openid))
