"""De-duplication of the platform's retries, shared by every worker through Redis.

The first request for a message claims its key and runs the turn; a retry finds the claim and
gets the first answer (or `success` once the answer went out another way), never a second turn.

The claim also puts the message in flight, in the same Lua script: it waits among the spool's
taken entries under a short lease that its worker renews while the turn runs. A worker killed
mid-turn lets the lease lapse, and any worker's spool drainer then writes the message (again,
harmlessly) and runs its turn within seconds. So a retry of a message whose worker died never
takes the turn over: it writes the message itself and may answer `success`, because the turn is
already somebody's job.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.stores.spool import KEY as WAITING
from bot.stores.spool import LEASES, NOW_MS, SETTLE, TAKEN, TICKETS, Taken, encode
from bot.values import Inbound

PENDING = "\x00pending"
KEEP_SECONDS = 600  # the platform retries within ~15 s; keep answers (and pending claims) well past that
# How long a turn may go unrenewed before it counts as its worker's death (renewed every third).
IN_FLIGHT_LEASE = 6.0

# KEYS: claim, taken, leases, tickets. ARGV: pending marker, keep seconds, entry, lease ms.
# Returns {1, ticket} for the first request, {0, answer-or-pending} for a retry.
_CLAIM = NOW_MS + """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  local ticket = tostring(redis.call('INCR', KEYS[4]))
  redis.call('HSET', KEYS[2], ticket, ARGV[3])
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[4]), ticket)
  return {1, ticket}
end
return {0, redis.call('GET', KEYS[1]) or ARGV[1]}
"""

# KEYS: taken, leases, waiting, claim. ARGV: ticket, '' (drop the entry), answer, keep seconds.
# The answer is kept for retries and the turn's in-flight entry settled in one round trip.
_FINISH = "redis.call('SET', KEYS[4], ARGV[3], 'EX', ARGV[4])\n" + SETTLE


@dataclass(frozen=True)
class Claim:
    first: bool  # this request runs the turn
    answer: str | None = None  # the stored answer for a retry, once known
    in_flight: Taken | None = None  # the first request's entry, settled when its turn is done


class DedupStore:
    def __init__(self, redis: aioredis.Redis, poll_interval: float = 0.05) -> None:
        self._redis = redis
        self._poll = poll_interval
        self._claim = redis.register_script(_CLAIM)
        self._finish = redis.register_script(_FINISH)

    @staticmethod
    def _key(message_key: str) -> str:
        return f"xz:dedup:{message_key}"

    async def claim(self, message_key: str, inbound: Inbound) -> Claim:
        first, value = await self._claim(
            keys=[self._key(message_key), TAKEN, LEASES, TICKETS],
            args=[PENDING, KEEP_SECONDS, encode(inbound, "", message_key), int(IN_FLIGHT_LEASE * 1000)])
        if first:
            return Claim(first=True, in_flight=Taken(value, inbound, "", message_key, IN_FLIGHT_LEASE))
        return Claim(first=False, answer=None if value == PENDING else value)

    async def wait_answer(self, message_key: str, timeout: float) -> str | None:
        """A retry that arrives while the first turn runs waits for its answer, up to `timeout`."""
        key = self._key(message_key)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            value = await self._redis.get(key)
            if value is not None and value != PENDING:
                return value
            await asyncio.sleep(self._poll)
        return None

    async def finish(self, message_key: str, answer: str, in_flight: Taken | None = None) -> None:
        """Keep the answer for retries; with `in_flight`, also settle the turn's entry (its turn is done)."""
        if in_flight is None:
            await self._redis.set(self._key(message_key), answer, ex=KEEP_SECONDS)
            return
        await self._finish(keys=[TAKEN, LEASES, WAITING, self._key(message_key)],
                           args=[in_flight.ticket, "", answer, KEEP_SECONDS])
