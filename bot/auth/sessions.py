"""Staff sessions in Redis, shared by every worker, with a CSRF token each.

Sessions expire after an idle period and absolutely after a shift's length, whatever the activity.
Each remembers the fingerprint of the password it was opened with (`Staff.credential`): once the
password is changed or reset, by the web page or by `xinzhan user add --reset` (which need not
reach Redis), every older session is refused at its next request. Each user's session ids are
also kept in a set, so "sign out everywhere" can end them all at once.
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
    credential: str = ""


class SessionStore:
    def __init__(self, redis: aioredis.Redis, idle: int = IDLE_SECONDS, absolute: int = ABSOLUTE_SECONDS) -> None:
        self._redis = redis
        self._idle = idle
        self._absolute = absolute

    @staticmethod
    def _key(sid: str) -> str:
        return f"xz:session:{sid}"

    @staticmethod
    def _user_key(user_id: int) -> str:
        return f"xz:sessions-of:{user_id}"

    async def create(self, user_id: int, credential: str = "") -> Session:
        session = Session(secrets.token_urlsafe(32), user_id, secrets.token_urlsafe(24), time.time(), credential)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(session.sid), json.dumps({"user_id": user_id, "csrf": session.csrf,
                                                         "created": session.created, "credential": credential}),
                     ex=self._idle)
            pipe.sadd(self._user_key(user_id), session.sid)
            pipe.expire(self._user_key(user_id), self._absolute)
            await pipe.execute()
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
        return Session(sid, int(data["user_id"]), data["csrf"], data["created"], data.get("credential", ""))

    async def drop(self, sid: str) -> None:
        await self._redis.delete(self._key(sid))

    async def drop_all(self, user_id: int) -> int:
        """End every session of one person; returns how many were still open."""
        sids = await self._redis.smembers(self._user_key(user_id))
        keys = [self._key(s.decode() if isinstance(s, bytes) else s) for s in sids]
        async with self._redis.pipeline(transaction=True) as pipe:
            if keys:
                pipe.delete(*keys)
            pipe.delete(self._user_key(user_id))
            results = await pipe.execute()
        return results[0] if keys else 0
