"""Conversation state per resident (aiogram's FSM storage): a small record behind one interface.

Any worker can continue any conversation because the state lives in Redis, not in a process.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import redis.asyncio as aioredis

from bot.stores import read_ahead

KEEP_SECONDS = 7 * 24 * 3600  # flows decide resume/expiry from updated_at; Redis just forgets eventually


@dataclass(frozen=True)
class FlowState:
    flow: str
    state: str
    data: dict = field(default_factory=dict)
    updated_at: float = 0.0  # epoch seconds

    def age_seconds(self, now: datetime | None = None) -> float:
        return (now or datetime.now(timezone.utc)).timestamp() - self.updated_at


class StateStore:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    @staticmethod
    def key(openid: str, slot: str = "flow") -> str:
        return f"xz:state:{slot}:{openid}"

    async def get(self, openid: str, slot: str = "flow") -> FlowState | None:
        key = self.key(openid, slot)
        raw = read_ahead.read(key)
        if raw is read_ahead.MISSING:
            raw = await self._redis.get(key)
        return FlowState(**json.loads(raw)) if raw else None

    async def set(self, openid: str, state: FlowState, slot: str = "flow", ttl: int = KEEP_SECONDS) -> None:
        stamped = FlowState(state.flow, state.state, state.data, datetime.now(timezone.utc).timestamp())
        key, raw = self.key(openid, slot), json.dumps(asdict(stamped), ensure_ascii=False)
        if not read_ahead.write_later(key, raw, lambda pipe: pipe.set(key, raw, ex=ttl)):
            await self._redis.set(key, raw, ex=ttl)

    async def clear(self, openid: str, slot: str = "flow") -> None:
        key = self.key(openid, slot)
        if read_ahead.read(key) is None:  # read empty with the lock: nothing to delete
            return
        if not read_ahead.write_later(key, None, lambda pipe: pipe.delete(key)):
            await self._redis.delete(key)
