"""Which of a run's claims may have reached WeChat: a Redis set of delivery ids whose request is in flight.

An id goes in just before its HTTP request and comes out once its outcome is recorded. So after a
worker dies, a claim still `queued` whose id is in the set may have been delivered (it becomes
`uncertain` and is never resent), and one that is not in it was never attempted (it is sent again,
once). One SADD per send; the removals are one SREM per batch.

The set also holds a sentinel from the moment a sender starts. A set without it means Redis lost
its data (no persistence, or the embedded fakeredis went down with the process): then nothing is
known, and every claim left queued counts as uncertain, never as safe to resend.
"""
from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

SENTINEL = "0"  # delivery ids start at 1
TTL_SECONDS = 30 * 24 * 3600  # outlives any pause; a run's set is dropped when it ends


@dataclass(frozen=True)
class Remembered:
    ids: frozenset[int]
    complete: bool  # False: Redis lost the set, so any queued claim may have been sent

    def may_have_been_sent(self, delivery_id: int) -> bool:
        return not self.complete or delivery_id in self.ids


class InFlight:
    def __init__(self, redis: aioredis.Redis, run_id: int) -> None:
        self._redis = redis
        self.key = f"xz:campaign:inflight:{run_id}"

    async def remembered(self) -> Remembered:
        members = await self._redis.smembers(self.key)
        names = {m.decode() if isinstance(m, bytes) else str(m) for m in members}
        return Remembered(frozenset(int(m) for m in names if m != SENTINEL), SENTINEL in names)

    async def start(self) -> None:
        """A fresh set for a sender that has settled everything the last one left."""
        async with self._redis.pipeline(transaction=True) as pipe:
            await pipe.delete(self.key).sadd(self.key, SENTINEL).expire(self.key, TTL_SECONDS).execute()

    async def add(self, delivery_id: int) -> None:
        await self._redis.sadd(self.key, delivery_id)

    async def discard(self, delivery_ids: list[int]) -> None:
        if delivery_ids:
            await self._redis.srem(self.key, *delivery_ids)

    async def drop(self) -> None:
        await self._redis.delete(self.key)
