"""A lease in Redis: one holder at a time, kept alive by renewal, free again when the holder dies.

Used for the scheduler leader (one process runs APScheduler) and for each campaign run (one
worker sends it). It is redis-py's Lock, as the residents' locks are (bot/stores/locks.py), held
without blocking: renewal and release check the holder's token, so a holder that lost its lease
never extends or frees someone else's. The Lock raises when the lease was lost; a lease answers
False (renew) or does nothing (release), which is all its holders need to know.
"""
from __future__ import annotations

import redis.asyncio as aioredis
from redis.exceptions import LockError


class Lease:
    def __init__(self, redis: aioredis.Redis, name: str, seconds: float) -> None:
        # thread_local=False: the token is the lease's, whichever task renews or releases it
        self._lock = redis.lock(f"xz:lease:{name}", timeout=seconds, blocking=False, thread_local=False)

    async def acquire(self) -> bool:
        return await self._lock.acquire()

    async def renew(self) -> bool:
        """Extend the lease; False when it was lost (expired and maybe taken by another)."""
        try:
            return await self._lock.reacquire()
        except LockError:
            return False

    async def release(self) -> None:
        """Give the lease back; a lease already lost is left to whoever holds it now."""
        try:
            await self._lock.release()
        except LockError:
            pass

    async def held_by_anyone(self) -> bool:
        return await self._lock.locked()
