"""Inbound messages the database could not take, held in Redis until it is back.

During a database outage the webhook still answers, and nothing the resident said is lost: the
message waits here and is written (and its turn run) once the database answers again.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

import redis.asyncio as aioredis

from bot.values import Inbound

KEY = "xz:spool:inbound"
PARKED = "xz:spool:parked"  # entries the database refused for what they hold, not for being down


def _encode(inbound: Inbound, replied: str) -> str:
    data = asdict(inbound)
    data["received_at"] = inbound.received_at.isoformat()
    return json.dumps({"inbound": data, "replied": replied}, ensure_ascii=False)


def _decode(raw: str) -> tuple[Inbound, str]:
    entry = json.loads(raw)
    data = entry["inbound"]
    data["received_at"] = datetime.fromisoformat(data["received_at"])
    return Inbound(**data), entry["replied"]


class Spool:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def hold(self, inbound: Inbound, replied: str) -> None:
        await self._redis.rpush(KEY, _encode(inbound, replied))

    async def size(self) -> int:
        return await self._redis.llen(KEY)

    async def take(self) -> tuple[Inbound, str] | None:
        raw = await self._redis.lpop(KEY)
        return _decode(raw) if raw else None

    async def put_back(self, inbound: Inbound, replied: str) -> None:
        """The database failed again: keep the message first in line."""
        await self._redis.lpush(KEY, _encode(inbound, replied))

    async def park(self, inbound: Inbound, replied: str) -> None:
        """The database is up but refuses this entry: keep it aside, so it blocks nobody behind it."""
        await self._redis.rpush(PARKED, _encode(inbound, replied))

    async def parked(self) -> int:
        return await self._redis.llen(PARKED)
