"""Login throttling that a stranger cannot turn against the night shift.

Failures are counted three ways, each for 15 minutes:
- per client address: many failures from one address, over any usernames, block that address;
- per (address, username): a few failures on one account from one address block that pair;
- per username, from anywhere: never a block, only a growing delay before the password is checked,
  so guessing one account from many addresses is slow while its owner still gets in.
A success clears its address's counts, and the username's slowdown. The address is the real client's (bot/client_address.py),
not the proxy's: behind nginx every login would otherwise share one address.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import redis.asyncio as aioredis
from aiohttp import web


@dataclass(frozen=True)
class Limits:
    address: int = 20  # failures from one address, any usernames
    pair: int = 5  # failures on one username from one address
    username_free: int = 5  # failures on one username from anywhere before attempts slow down
    delay_step: float = 1.0  # seconds added per failure beyond that
    delay_max: float = 5.0
    window: int = 900  # seconds each count lives after its last failure


class LoginThrottle:
    def __init__(self, redis: aioredis.Redis, limits: Limits = Limits()) -> None:
        self._redis = redis
        self.limits = limits

    @staticmethod
    def _keys(username: str, address: str) -> tuple[str, str, str]:
        """(address, pair, username) keys; usernames are hashed, any string a visitor types is short."""
        user = hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return f"xz:loginfail:addr:{address}", f"xz:loginfail:pair:{address}:{user}", f"xz:loginfail:user:{user}"

    async def check(self, username: str, address: str) -> tuple[bool, float]:
        """(blocked, seconds to wait before checking the password)."""
        by_address, by_pair, by_user = (int(c or 0) for c in await self._redis.mget(self._keys(username, address)))
        blocked = by_address >= self.limits.address or by_pair >= self.limits.pair
        over = by_user - self.limits.username_free + 1
        return blocked, min(self.limits.delay_max, over * self.limits.delay_step) if over > 0 else 0.0

    async def failed(self, username: str, address: str) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in self._keys(username, address):
                pipe.incr(key)
                pipe.expire(key, self.limits.window)
            await pipe.execute()

    async def succeeded(self, username: str, address: str) -> None:
        await self._redis.delete(*self._keys(username, address))


THROTTLE = web.AppKey("login_throttle", LoginThrottle)
