"""One lock per resident, so a resident's messages are handled in order across workers (Rasa's lock store)."""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

import redis.asyncio as aioredis
from redis.exceptions import LockError


class ResidentBusy(Exception):
    """The resident's previous turn held the lock too long."""


class ResidentLocks:
    def __init__(self, redis: aioredis.Redis, lease: float = 30.0, wait: float = 20.0) -> None:
        self._redis = redis
        self._lease = lease  # a crashed worker's lock frees itself after this
        self._wait = wait

    @asynccontextmanager
    async def hold(self, openid: str) -> AsyncIterator[None]:
        lock = self._redis.lock(f"xz:lock:resident:{openid}", timeout=self._lease,
                                blocking_timeout=self._wait, sleep=0.02)
        if not await lock.acquire():
            raise ResidentBusy(openid)
        try:
            yield
        finally:
            try:
                await lock.release()
            except LockError:  # lease ran out under a very slow turn; someone else may hold it now
                pass
