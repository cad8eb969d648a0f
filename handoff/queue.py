"""The risk-ordered queue and the claims on it, in Redis: the only code that knows these keys.

A waiting case is a member of one sorted set, scored by `queue_score`; a claimed case is a field
of one hash (case id -> "counsellor:claimed_ms"). Claiming moves a case from the set to the hash
in one Lua script, so two counsellors pressing "take next" together never get the same case, and
a counsellor's load is counted from the same hash the script writes, so the cap cannot be raced.
The database stays the record: `handoff.recovery` rebuilds both keys from it. A claim observes
how long its case waited, and reading the queue refreshes the queue-length gauge.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import redis.asyncio as aioredis

from bot import metrics
from bot.db import utcnow

QUEUE_KEY = "xz:handoff:queue"
CLAIMS_KEY = "xz:handoff:claims"
MAX_LEVEL = 4
LEVEL_SPAN = 10 ** 13  # larger than any epoch-millisecond, and scores stay exact in a double

# KEYS: queue, claims. ARGV: counsellor, cap, now_ms, case id ('' = the head of the queue).
_CLAIM = """
local load = 0
for _, v in ipairs(redis.call('HVALS', KEYS[2])) do
  if string.match(v, '^[^:]+') == ARGV[1] then load = load + 1 end
end
if load >= tonumber(ARGV[2]) then return {'cap', ''} end
local id = ARGV[4]
if id == '' then
  local head = redis.call('ZRANGE', KEYS[1], 0, 0)
  if #head == 0 then return {'empty', ''} end
  id = head[1]
end
local score = redis.call('ZSCORE', KEYS[1], id)
if not score then return {'gone', id} end
redis.call('ZREM', KEYS[1], id)
redis.call('HSET', KEYS[2], id, ARGV[1] .. ':' .. ARGV[3])
return {'ok', id, score}
"""

# KEYS: claims. ARGV: case id, from counsellor, to counsellor, cap of the receiver, now_ms.
_TRANSFER = """
local held = redis.call('HGET', KEYS[1], ARGV[1])
if not held or string.match(held, '^[^:]+') ~= ARGV[2] then return 'gone' end
local load = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
  if string.match(v, '^[^:]+') == ARGV[3] then load = load + 1 end
end
if load >= tonumber(ARGV[4]) then return 'cap' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3] .. ':' .. ARGV[5])
return 'ok'
"""

# KEYS: queue, claims. ARGV: case id, score. Back to the queue in one step.
_REQUEUE = """
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
"""


def queue_score(level: int, queued_at: datetime) -> float:
    """The one place the queue order is decided: higher risk first, then longest waiting first."""
    if queued_at.tzinfo is None:  # its timestamp would be read in the machine's zone, misplacing the case
        raise ValueError("queued_at must be an aware UTC time, as stored times are read back (bot.db.UTCDateTime)")
    level = max(0, min(MAX_LEVEL, int(level)))
    return float((MAX_LEVEL - level) * LEVEL_SPAN + int(queued_at.timestamp() * 1000))


def level_and_queued_ms(score: float) -> tuple[int, int]:
    """The inverse of `queue_score`: which level a waiting case has and since when it waits."""
    span = int(score) // LEVEL_SPAN
    return MAX_LEVEL - span, int(score) - span * LEVEL_SPAN


def now_ms() -> int:
    return int(utcnow().timestamp() * 1000)


@dataclass(frozen=True)
class ClaimResult:
    status: str  # ok, cap (counsellor at their limit), empty (nothing waiting), gone (taken already)
    case_id: int | None = None


@dataclass(frozen=True)
class Held:
    counsellor_id: int
    since_ms: int


class CaseQueue:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._claim = redis.register_script(_CLAIM)
        self._transfer = redis.register_script(_TRANSFER)
        self._requeue = redis.register_script(_REQUEUE)

    async def add(self, case_id: int, level: int, queued_at: datetime) -> None:
        """Put a case in (or move it to) its place; re-adding with a higher level moves it up."""
        await self._redis.zadd(QUEUE_KEY, {str(case_id): queue_score(level, queued_at)})

    async def position(self, case_id: int) -> int | None:
        rank = await self._redis.zrank(QUEUE_KEY, str(case_id))
        return None if rank is None else rank + 1

    async def waiting(self) -> list[int]:
        """The queue in order; the sweep reads it every pass, which keeps the length gauge current."""
        members = await self._redis.zrange(QUEUE_KEY, 0, -1, withscores=True)
        by_level = [0] * (MAX_LEVEL + 1)
        for _, score in members:
            by_level[level_and_queued_ms(score)[0]] += 1
        for level, count in enumerate(by_level):
            metrics.QUEUE_LENGTH.labels(level=str(level)).set(count)
        return [int(m) for m, _ in members]

    async def size(self) -> int:
        return int(await self._redis.zcard(QUEUE_KEY))

    async def claim(self, counsellor_id: int, cap: int, case_id: int | None = None) -> ClaimResult:
        status, member, *score = await self._claim(
            keys=[QUEUE_KEY, CLAIMS_KEY], args=[str(counsellor_id), cap, now_ms(), "" if case_id is None else str(case_id)])
        if score:
            level, queued_ms = level_and_queued_ms(float(score[0]))
            metrics.QUEUE_WAIT.labels(level=str(level)).observe(max(0, now_ms() - queued_ms) / 1000)
        return ClaimResult(status, int(member) if member else None)

    async def transfer(self, case_id: int, from_id: int, to_id: int, cap: int) -> str:
        return await self._transfer(keys=[CLAIMS_KEY], args=[str(case_id), str(from_id), str(to_id), cap, now_ms()])

    async def requeue(self, case_id: int, level: int, queued_at: datetime) -> None:
        """Release a claim and put the case back at its old place (its score comes from when it first queued)."""
        await self._requeue(keys=[QUEUE_KEY, CLAIMS_KEY], args=[str(case_id), queue_score(level, queued_at)])

    async def hold(self, case_id: int, counsellor_id: int, since_ms: int | None = None) -> None:
        """Record a claim the database already knows about (recovery)."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(QUEUE_KEY, str(case_id))
            pipe.hset(CLAIMS_KEY, str(case_id), f"{counsellor_id}:{since_ms or now_ms()}")
            await pipe.execute()

    async def remove(self, case_id: int) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(QUEUE_KEY, str(case_id))
            pipe.hdel(CLAIMS_KEY, str(case_id))
            await pipe.execute()

    async def release(self, case_id: int, counsellor_id: int) -> None:
        """Undo a claim whose database update found the case no longer waiting."""
        held = await self._redis.hget(CLAIMS_KEY, str(case_id))
        if held and held.split(":", 1)[0] == str(counsellor_id):
            await self._redis.hdel(CLAIMS_KEY, str(case_id))

    async def claims(self) -> dict[int, Held]:
        raw = await self._redis.hgetall(CLAIMS_KEY)
        held = {}
        for case_id, value in raw.items():
            counsellor, _, since = value.partition(":")
            held[int(case_id)] = Held(int(counsellor), int(since or 0))
        return held

    async def load(self, counsellor_id: int) -> int:
        return sum(1 for h in (await self.claims()).values() if h.counsellor_id == counsellor_id)
