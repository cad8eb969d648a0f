"""A lease in Redis: one holder at a time, kept alive by renewal, free again when the holder dies.

Used for the scheduler leader (one process runs APScheduler) and for each campaign run (one
worker sends it). Renewal and release check the holder's token, so a holder that lost its lease
never extends or frees someone else's.
"""
from __future__ import annotations

import uuid

import redis.asyncio as aioredis

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Lease:
    def __init__(self, redis: aioredis.Redis, name: str, seconds: float) -> None:
        self._redis = redis
        self.key = f"xz:lease:{name}"
        self._ms = int(seconds * 1000)
        self.token = uuid.uuid4().hex
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def acquire(self) -> bool:
        return bool(await self._redis.set(self.key, self.token, nx=True, px=self._ms))

    async def renew(self) -> bool:
        """Extend the lease; False when it was lost (expired and maybe taken by another)."""
        return bool(await self._renew(keys=[self.key], args=[self.token, self._ms]))

    async def release(self) -> None:
        await self._release(keys=[self.key], args=[self.token])

    async def held_by_anyone(self) -> bool:
        return bool(await self._redis.exists(self.key))
