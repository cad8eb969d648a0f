"""A token bucket in Redis shared by every worker, so all campaign sends together keep one rate.

Each call reserves its tokens at once and learns how long to wait: the bucket may go negative,
which queues callers fairly with a single round trip each. Time is Redis's, not the workers'.
"""
from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

_RESERVE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000000) - n
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 60000)
if tokens >= 0 then return 0 end
return math.ceil(-tokens * 1000000 / rate)
"""


class TokenBucket:
    def __init__(self, redis: aioredis.Redis, name: str, rate: float, burst: float | None = None) -> None:
        self._key = f"xz:ratelimit:{name}"
        self._rate = rate
        self._burst = burst if burst is not None else max(1.0, rate / 20)  # 50 ms worth: no bursts past the limit
        self._reserve = redis.register_script(_RESERVE)

    async def reserve(self, n: int = 1) -> float:
        """Take `n` tokens; the seconds to wait before using them."""
        micros = await self._reserve(keys=[self._key], args=[self._rate, self._burst, n])
        return int(micros) / 1_000_000

    async def acquire(self, n: int = 1) -> None:
        wait = await self.reserve(n)
        if wait > 0:
            await asyncio.sleep(wait)
