"""One Redis subscription per worker, fanned out to that worker's console WebSockets.

Every worker hears every event (pub/sub), and each socket gets the events its user may see, so
a case claimed through worker A disappears from a queue tab served by worker B at once.
"""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

import redis.asyncio as aioredis
from aiohttp import web

from handoff.events import CHANNEL, visible_to

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Viewer:
    user_id: int
    roles: frozenset[str]


class Hub:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._sockets: dict[web.WebSocketResponse, Viewer] = {}
        self.ready = asyncio.Event()  # subscribed: events published from now on will arrive

    def add(self, ws: web.WebSocketResponse, viewer: Viewer) -> None:
        self._sockets[ws] = viewer

    def remove(self, ws: web.WebSocketResponse) -> None:
        self._sockets.pop(ws, None)

    def __len__(self) -> int:
        return len(self._sockets)

    async def run(self) -> None:
        """Listen until cancelled; reconnect after a Redis hiccup rather than going deaf."""
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                self.ready.set()
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        await self.fan_out(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("console event subscription broke; resubscribing")
                await asyncio.sleep(0.5)
            finally:
                try:
                    await pubsub.aclose()
                except Exception:  # pragma: no cover - closing a broken connection
                    pass

    async def fan_out(self, raw: str) -> None:
        event = json.loads(raw)
        for ws, viewer in list(self._sockets.items()):
            if ws.closed or not visible_to(event, viewer.user_id, viewer.roles):
                continue
            try:
                await ws.send_str(raw)
            except (ConnectionError, RuntimeError):
                self.remove(ws)

    async def close_all(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"server shutdown")
        self._sockets.clear()
