"""Connect to Redis: the real server in production, in-process fakeredis for the demo and tests.

Both speak redis-py's asyncio API, so every store runs the same code on either.
"""
from __future__ import annotations

import redis.asyncio as aioredis


def connect_redis(url: str) -> aioredis.Redis:
    if url:
        return aioredis.Redis.from_url(url, decode_responses=True, health_check_interval=30)
    import fakeredis  # embedded default: one process only, nothing to install or start

    return fakeredis.FakeAsyncRedis(decode_responses=True)
