"""One lock per resident, so a resident's messages are handled in order across workers (Rasa's lock store)."""
from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable

import redis.asyncio as aioredis
from redis.exceptions import LockError


class ResidentBusy(Exception):
    """The resident's previous turn held the lock too long."""


class ResidentLocks:
    """A short lease, renewed while the turn runs: a killed worker's lock frees itself within `lease`,
    well inside the `wait` of the platform's retry that comes to finish its turn."""

    def __init__(self, redis: aioredis.Redis, lease: float = 10.0, wait: float = 20.0) -> None:
        self._redis = redis
        self._lease = lease
        self._wait = wait

    @asynccontextmanager
    async def hold(self, openid: str, read: list[str] = (),
                   also: Callable[[aioredis.client.Pipeline], None] | None = None) -> AsyncIterator[dict]:
        """Hold the resident's lock; yields the values of the keys in `read` as they are under the lock.

        The lock is tried, the keys read and `also`'s commands sent in one round trip; only when
        another turn holds the lock does this wait for it and then read the keys again."""
        lock = self._redis.lock(f"xz:lock:resident:{openid}", timeout=self._lease,
                                blocking_timeout=self._wait, sleep=0.02)
        token = uuid.uuid4().hex
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(lock.name, token, nx=True, px=int(self._lease * 1000))
            if read:
                pipe.mget(read)
            if also is not None:
                also(pipe)
            acquired, *rest = await pipe.execute()
        if acquired:
            lock.local.token = token.encode()
            values = rest[0] if read else []
        else:
            if not await lock.acquire():
                raise ResidentBusy(openid)
            values = await self._redis.mget(read) if read else []
        keeper = asyncio.create_task(self._renew(lock), name=f"lock-renewal:{openid[-6:]}")
        try:
            yield dict(zip(read, values))
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            try:
                await lock.release()
            except LockError:  # lost the lease (Redis restarted, or blocked past it); someone else may hold it
                pass

    async def _renew(self, lock) -> None:
        while True:
            await asyncio.sleep(self._lease / 3)
            await lock.reacquire()
