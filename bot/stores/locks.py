"""One lock per resident, so a resident's messages are handled in order across workers (Rasa's lock store)."""
from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.asyncio.lock import Lock
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
    async def hold(self, openid: str, read: Callable[[Pipeline], list[str]] | None = None,
                   also: Callable[[Pipeline], None] | None = None,
                   closing: Callable[[Pipeline], None] | None = None) -> AsyncIterator[dict]:
        """Hold the resident's lock; yields what `read` queued, by key, as it is under the lock.

        The lock is tried, `read`'s and `also`'s commands sent in one round trip; only when another
        turn holds the lock does this wait for it and then read again. `closing`'s commands go with
        the release, in one round trip too."""
        lock = self._redis.lock(f"xz:lock:resident:{openid}", timeout=self._lease,
                                blocking_timeout=self._wait, sleep=0.02)
        token = uuid.uuid4().hex
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(lock.name, token, nx=True, px=int(self._lease * 1000))
            keys = read(pipe) if read else []
            if also is not None:
                also(pipe)
            acquired, *values = await pipe.execute()
        if acquired:
            lock.local.token = token.encode()
        else:
            if not await lock.acquire():
                raise ResidentBusy(openid)
            async with self._redis.pipeline(transaction=False) as pipe:
                keys = read(pipe) if read else []
                values = await pipe.execute() if keys else []
        keeper = asyncio.create_task(self._renew(lock), name=f"lock-renewal:{openid[-6:]}")
        try:
            yield dict(zip(keys, values))
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            await self._release(lock, closing)

    async def _release(self, lock: Lock, closing: Callable[[Pipeline], None] | None) -> None:
        if closing is None:
            try:
                await lock.release()
            except LockError:  # lost the lease (Redis restarted, or blocked past it); someone else may hold it
                pass
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            closing(pipe)
            pipe.eval(Lock.LUA_RELEASE_SCRIPT, 1, lock.name, lock.local.token)  # no-op on a lease lost
            await pipe.execute()
        lock.local.token = None

    async def _renew(self, lock) -> None:
        while True:
            await asyncio.sleep(self._lease / 3)
            await lock.reacquire()
