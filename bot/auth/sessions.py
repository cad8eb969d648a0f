"""Staff sessions in Redis, shared by every worker, with a CSRF token each.

Sessions expire after an idle period and absolutely after a shift's length, whatever the activity.
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass

import redis.asyncio as aioredis

IDLE_SECONDS = 2 * 3600
ABSOLUTE_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Session:
    sid: str
    user_id: int
    csrf: str
    created: float


class SessionStore:
    def __init__(self, redis: aioredis.Redis, idle: int = IDLE_SECONDS, absolute: int = ABSOLUTE_SECONDS) -> None:
        self._redis = redis
        self._idle = idle
        self._absolute = absolute

    @staticmethod
    def _key(sid: str) -> str:
        return f"xz:session:{sid}"

    async def create(self, user_id: int) -> Session:
        session = Session(secrets.token_urlsafe(32), user_id, secrets.token_urlsafe(24), time.time())
        await self._redis.set(self._key(session.sid), json.dumps(
            {"user_id": user_id, "csrf": session.csrf, "created": session.created}), ex=self._idle)
        return session

    async def get(self, sid: str) -> Session | None:
        if not sid or len(sid) > 100:
            return None
        raw = await self._redis.get(self._key(sid))
        if raw is None:
            return None
        data = json.loads(raw)
        if time.time() - data["created"] > self._absolute:
            await self.drop(sid)
            return None
        await self._redis.expire(self._key(sid), self._idle)  # sliding idle timeout
        return Session(sid, int(data["user_id"]), data["csrf"], data["created"])

    async def drop(self, sid: str) -> None:
        await self._redis.delete(self._key(sid))
