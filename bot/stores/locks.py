"""One lock per resident, so a resident's messages are handled in order across workers (Rasa's lock store)."""
from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import AsyncIterator, Callable

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.asyncio.lock import Lock
from redis.exceptions import LockError


class ResidentBusy(Exception):
    """The resident's previous turn held the lock too long."""


@dataclass
class LockTry:
    """The resident's lock tried in another store's round trip (the de-duplication claim's), so a
    turn's first round trip claims the message, takes the lock and reads what the turn reads at once.
    The store that sends it fills in `acquired` and the `values` read after it."""

    key: str
    token: str
    lease_ms: int
    acquired: bool = False
    values: dict[str, object] = field(default_factory=dict)


class ResidentLocks:
    """A short lease, renewed while the turn runs: a killed worker's lock frees itself within `lease`,
    well inside the `wait` of the platform's retry that comes to finish its turn."""

    def __init__(self, redis: aioredis.Redis, lease: float = 10.0, wait: float = 20.0) -> None:
        self._redis = redis
        self._lease = lease
        self._wait = wait

    @staticmethod
    def key(openid: str) -> str:
        return f"xz:lock:resident:{openid}"

    def trial(self, openid: str) -> LockTry:
        """A try of `openid`'s lock for another store to send (see `LockTry`); `hold(tried=...)` adopts it."""
        return LockTry(self.key(openid), uuid.uuid4().hex, int(self._lease * 1000))

    @asynccontextmanager
    async def hold(self, openid: str, read: Callable[[Pipeline], list[str]] | None = None,
                   also: Callable[[Pipeline], None] | None = None,
                   closing: Callable[[Pipeline], None] | None = None,
                   tried: LockTry | None = None) -> AsyncIterator[dict]:
        """Hold the resident's lock; yields what `read` queued, by key, as it is under the lock.

        A lock `tried` and acquired already is held, with the values read after it, at no round trip.
        Otherwise the lock is tried, `read`'s and `also`'s commands sent in one round trip; only when
        another turn holds the lock does this wait for it and then read again. `closing`'s commands
        go with the release, in one round trip too."""
        lock = self._redis.lock(self.key(openid), timeout=self._lease, blocking_timeout=self._wait, sleep=0.02)
        if tried is not None and tried.acquired:
            lock.local.token = tried.token.encode()
            values = tried.values
        else:
            values = await self._take(openid, lock, read, also)
        keeper = asyncio.create_task(self._renew(lock), name=f"lock-renewal:{openid[-6:]}")
        try:
            yield values
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            await self._release(lock, closing)

    async def _take(self, openid: str, lock: Lock, read: Callable[[Pipeline], list[str]] | None,
                    also: Callable[[Pipeline], None] | None) -> dict:
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
        return dict(zip(keys, values))

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
