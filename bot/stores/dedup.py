"""De-duplication of the platform's retries, shared by every worker through Redis.

The first request for a message claims its key and runs the turn; a retry finds the claim and
gets the first answer (or `success` once the answer went out another way), never a second turn.
A claim still pending lapses after CLAIM_LEASE, so a worker killed mid-turn does not leave its
message unanswerable: the next retry takes the claim over and runs the turn.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

import redis.asyncio as aioredis

PENDING = "\x00pending"
KEEP_SECONDS = 600  # the platform retries within ~15 s; keep answers well past that
# A live worker answers (or gives up with `success`) within the 4 s reply deadline of its claim; a
# claim pending twice that long belongs to a dead worker. Shorter than the platform's retries
# (about 5, 10 and 15 s after the first try), so one of them takes it over.
CLAIM_LEASE = 8


@dataclass(frozen=True)
class Claim:
    first: bool  # this request runs the turn
    answer: str | None = None  # the stored answer for a retry, once known


class DedupStore:
    def __init__(self, redis: aioredis.Redis, poll_interval: float = 0.05) -> None:
        self._redis = redis
        self._poll = poll_interval

    @staticmethod
    def _key(message_key: str) -> str:
        return f"xz:dedup:{message_key}"

    async def claim(self, message_key: str) -> Claim:
        key = self._key(message_key)
        if await self._redis.set(key, PENDING, nx=True, ex=CLAIM_LEASE):
            return Claim(first=True)
        value = await self._redis.get(key)
        return Claim(first=False, answer=None if value in (None, PENDING) else value)

    async def wait_answer(self, message_key: str, timeout: float) -> Claim:
        """A retry that arrives while the first turn runs waits for its answer, up to `timeout`.

        If the pending claim lapses meanwhile (its worker died), this retry takes it over and
        gets `first=True`: it runs the turn itself.
        """
        key = self._key(message_key)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            value = await self._redis.get(key)
            if value is None and await self._redis.set(key, PENDING, nx=True, ex=CLAIM_LEASE):
                return Claim(first=True)
            if value is not None and value != PENDING:
                return Claim(first=False, answer=value)
            await asyncio.sleep(self._poll)
        return Claim(first=False)

    async def finish(self, message_key: str, answer: str) -> None:
        await self._redis.set(self._key(message_key), answer, ex=KEEP_SECONDS)
