"""Who has a console open, and whether they are online or away: heartbeats from the WebSocket.

One hash, staff id -> "status:last_seen_ms". A console that stops beating (closed tab, lost
network, dead worker) is noticed by the sweep, which puts that counsellor's cases back in the queue.
"""
from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from handoff.queue import now_ms

PRESENCE_KEY = "xz:handoff:presence"
STATUSES = ("online", "away")
BEAT_SECONDS = 10  # the console beats this often
ONLINE_WITHIN_MS = 3 * BEAT_SECONDS * 1000  # missed three beats: no longer shown as present


@dataclass(frozen=True)
class Seen:
    status: str
    at_ms: int

    def present(self, now: int | None = None) -> bool:
        return (now or now_ms()) - self.at_ms <= ONLINE_WITHIN_MS


class Presence:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def beat(self, staff_id: int, status: str = "online", at_ms: int | None = None) -> None:
        status = status if status in STATUSES else "online"
        await self._redis.hset(PRESENCE_KEY, str(staff_id), f"{status}:{at_ms or now_ms()}")

    async def all(self) -> dict[int, Seen]:
        seen = {}
        for staff_id, value in (await self._redis.hgetall(PRESENCE_KEY)).items():
            status, _, at = value.partition(":")
            seen[int(staff_id)] = Seen(status, int(at or 0))
        return seen

    async def online(self) -> set[int]:
        now = now_ms()
        return {sid for sid, s in (await self.all()).items() if s.status == "online" and s.present(now)}

    async def forget(self, staff_id: int) -> None:
        await self._redis.hdel(PRESENCE_KEY, str(staff_id))
