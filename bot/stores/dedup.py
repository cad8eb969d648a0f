"""De-duplication of the platform's retries, shared by every worker through Redis.

The first request for a message claims its key and runs the turn; a retry finds the claim and
gets the first answer (or `success` once the answer went out another way), never a second turn.

The claim also puts the message in flight, in the same Lua script: it waits among the spool's
taken entries under a short lease that its worker renews while the turn runs. A worker killed
mid-turn lets the lease lapse, and any worker's spool drainer then writes the message (again,
harmlessly) and runs its turn within seconds. So a retry of a message whose worker died never
takes the turn over: it writes the message itself and may answer `success`, because the turn is
already somebody's job.

The claim's round trip is the turn's first: the same script tries the resident's lock and makes the
writes a message's first delivery makes (the 48-hour allowance), and the turn's reads follow it in
one pipeline, so a turn that finds its resident free starts with everything it reads in hand.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Callable, Sequence

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from bot.stores.locks import LockTry
from bot.stores.spool import KEY as WAITING
from bot.stores.spool import LEASES, NOW_MS, SETTLE, TAKEN, TICKETS, Taken, encode
from bot.values import Inbound

PENDING = "\x00pending"
KEEP_SECONDS = 600  # the platform retries within ~15 s; keep answers (and pending claims) well past that
# How long a turn may go unrenewed before it counts as its worker's death (renewed every third).
IN_FLIGHT_LEASE = 6.0

# KEYS: claim, taken, leases, tickets, the lock (only with a lock token), then the first delivery's keys.
# ARGV: pending marker, keep seconds, entry, lease ms, lock token ('' = no lock), lock ms, then value,
# seconds and '1' for NX for each first-delivery key. Nothing but the claim's read happens for a retry.
# Returns {1, ticket, 1 if the lock was taken} for the first request, {0, answer-or-pending} for a retry.
_CLAIM = NOW_MS + """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  local ticket = tostring(redis.call('INCR', KEYS[4]))
  redis.call('HSET', KEYS[2], ticket, ARGV[3])
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[4]), ticket)
  local locked, first = 0, 5
  if ARGV[5] ~= '' then
    if redis.call('SET', KEYS[5], ARGV[5], 'NX', 'PX', ARGV[6]) then locked = 1 end
    first = 6
  end
  for i = first, #KEYS do
    local a = 7 + (i - first) * 3
    if ARGV[a + 2] == '1' then
      redis.call('SET', KEYS[i], ARGV[a], 'EX', ARGV[a + 1], 'NX')
    else
      redis.call('SET', KEYS[i], ARGV[a], 'EX', ARGV[a + 1])
    end
  end
  return {1, ticket, locked}
end
return {0, redis.call('GET', KEYS[1]) or ARGV[1]}
"""

# KEYS: taken, leases, waiting, claim. ARGV: ticket, '' (drop the entry), answer, keep seconds.
# The answer is kept for retries and the turn's in-flight entry settled in one round trip.
_FINISH = "redis.call('SET', KEYS[4], ARGV[3], 'EX', ARGV[4])\n" + SETTLE


@dataclass(frozen=True)
class FirstWrite:
    """A key a message's first delivery sets and its retries leave alone: SET key value EX seconds [NX]."""
    key: str
    value: str | int
    seconds: int
    only_if_absent: bool = False


@dataclass(frozen=True)
class Claim:
    first: bool  # this request runs the turn
    answer: str | None = None  # the stored answer for a retry, once known
    in_flight: Taken | None = None  # the first request's entry, settled when its turn is done


class DedupStore:
    def __init__(self, redis: aioredis.Redis, poll_interval: float = 0.05) -> None:
        self._redis = redis
        self._poll = poll_interval

    @staticmethod
    def _key(message_key: str) -> str:
        return f"xz:dedup:{message_key}"

    async def claim(self, message_key: str, inbound: Inbound, lock: LockTry | None = None,
                    read: Callable[[Pipeline], list[str]] | None = None,
                    first_writes: Sequence[FirstWrite] = ()) -> Claim:
        """Claim the message, in one round trip with the first request's `lock` try (filled in), its
        `first_writes` and `read`'s commands (their values go to the lock when it was taken)."""
        keys = [self._key(message_key), TAKEN, LEASES, TICKETS] + ([lock.key] if lock else [])
        args = [PENDING, KEEP_SECONDS, encode(inbound, "", message_key), int(IN_FLIGHT_LEASE * 1000),
                lock.token if lock else "", lock.lease_ms if lock else 0]
        for write in first_writes:
            keys.append(write.key)
            args += [write.value, write.seconds, "1" if write.only_if_absent else ""]
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.eval(_CLAIM, len(keys), *keys, *args)  # EVAL, not a registered script: no SCRIPT EXISTS first
            read_keys = read(pipe) if read else []
            (first, value, *locked), *values = await pipe.execute()
        if not first:
            return Claim(first=False, answer=None if value == PENDING else value)
        if lock is not None and locked[0]:
            lock.acquired, lock.values = True, dict(zip(read_keys, values))
        return Claim(first=True, in_flight=Taken(value, inbound, "", message_key, IN_FLIGHT_LEASE))

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

    async def finish(self, message_key: str, answer: str, in_flight: Taken | None = None,
                     before: Callable[[Pipeline], None] | None = None) -> None:
        """Keep the answer for retries; with `in_flight`, also settle the turn's entry (its turn is done).
        `before`'s commands go first in the same round trip: the turn's closing writes and its lock's
        release, handed over with its answer (`ResidentLocks.hold`)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            if before is not None:
                before(pipe)
            if in_flight is None:
                pipe.set(self._key(message_key), answer, ex=KEEP_SECONDS)
            else:  # EVAL, as the claim: a registered script would cost a SCRIPT EXISTS first
                pipe.eval(_FINISH, 4, TAKEN, LEASES, WAITING, self._key(message_key),
                          in_flight.ticket, "", answer, KEEP_SECONDS)
            await pipe.execute()
