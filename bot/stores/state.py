"""Conversation state per resident (aiogram's FSM storage): a small record behind one interface.

Any worker can continue any conversation because the state lives in Redis, not in a process.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import redis.asyncio as aioredis

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
    def _key(openid: str, slot: str) -> str:
        return f"xz:state:{slot}:{openid}"

    async def get(self, openid: str, slot: str = "flow") -> FlowState | None:
        raw = await self._redis.get(self._key(openid, slot))
        return FlowState(**json.loads(raw)) if raw else None

    async def set(self, openid: str, state: FlowState, slot: str = "flow", ttl: int = KEEP_SECONDS) -> None:
        stamped = FlowState(state.flow, state.state, state.data, datetime.now(timezone.utc).timestamp())
        await self._redis.set(self._key(openid, slot), json.dumps(asdict(stamped), ensure_ascii=False), ex=ttl)

    async def clear(self, openid: str, slot: str = "flow") -> None:
        await self._redis.delete(self._key(openid, slot))
