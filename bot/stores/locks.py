"""One lock per resident, so a resident's messages are handled in order across workers (Rasa's lock store)."""
from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import AsyncIterator, Callable

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.asyncio.lock import Lock


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


class Handover:
    """A held lock's release kept back when its holder's block ends, with the commands that must go
    before it (the turn's closing writes), for the caller to send in its own round trip (the answer
    kept for retries, `DedupStore.finish`) or alone (`send`). Until then the lock stays held, no longer
    renewed: a worker that dies first leaves it to lapse within its lease, as one dying mid-turn does."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._release: Callable[[Pipeline], None] | None = None

    def keep(self, release: Callable[[Pipeline], None]) -> None:
        self._release = release

    def queue(self, pipe: Pipeline) -> None:
        """Queue the closing commands and the release on `pipe` (once; nothing if nothing was kept)."""
        release, self._release = self._release, None
        if release is not None:
            release(pipe)

    async def send(self) -> None:
        if self._release is not None:
            async with self._redis.pipeline(transaction=False) as pipe:
                self.queue(pipe)
                await pipe.execute()


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

    def handover(self) -> Handover:
        """An empty `Handover` for `hold` to keep its release in."""
        return Handover(self._redis)

    @asynccontextmanager
    async def hold(self, openid: str, read: Callable[[Pipeline], list[str]] | None = None,
                   also: Callable[[Pipeline], None] | None = None,
                   closing: Callable[[Pipeline], None] | None = None,
                   tried: LockTry | None = None, handover: Handover | None = None) -> AsyncIterator[dict]:
        """Hold the resident's lock; yields what `read` queued, by key, as it is under the lock.

        A lock `tried` and acquired already is held, with the values read after it, at no round trip.
        Otherwise the lock is tried, `read`'s and `also`'s commands sent in one round trip; only when
        another turn holds the lock does this wait for it and then read again. `closing`'s commands
        go with the release, in one round trip too: sent when the block ends, or, when it ends
        without an error and a `handover` is given, kept there for the caller to send."""
        lock = self._redis.lock(self.key(openid), timeout=self._lease, blocking_timeout=self._wait, sleep=0.02)
        if tried is not None and tried.acquired:
            lock.local.token = tried.token.encode()
            values = tried.values
        else:
            values = await self._take(openid, lock, read, also)
        keeper = asyncio.create_task(self._renew(lock), name=f"lock-renewal:{openid[-6:]}")
        handed = False
        try:
            yield values
            handed = handover is not None
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            release = partial(self._queue_release, lock.name, lock.local.token, closing)
            if handed:
                handover.keep(release)
            else:
                await self._release(release)

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

    @staticmethod
    def _queue_release(name: str, token: bytes, closing: Callable[[Pipeline], None] | None,
                       pipe: Pipeline) -> None:
        if closing is not None:
            closing(pipe)
        pipe.eval(Lock.LUA_RELEASE_SCRIPT, 1, name, token)  # a no-op once the lease is lost (Redis restarted)

    async def _release(self, release: Callable[[Pipeline], None]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            release(pipe)
            await pipe.execute()

    async def _renew(self, lock) -> None:
        while True:
            await asyncio.sleep(self._lease / 3)
            await lock.reacquire()
