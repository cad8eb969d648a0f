"""Console events over Redis pub/sub, so every console tab on every worker hears every change.

An event is a small JSON object: `type` (queue, claimed, message, sent, transferred, requeued,
escalated, fallback, closed, alert, presence, callback, followup, transfer_offered, transfer_returned,
whisper, taken_over, reassigned, console_gone), the case it is about, and what a console needs to draw
it without a second request. Message and whisper text travel here (staff-only), never to logs.
"""
from __future__ import annotations

import json
import time

import redis.asyncio as aioredis

CHANNEL = "xz:handoff:events"
SUPERVISORS_ONLY = ("console_gone",)  # alerts meant for the supervisor on duty


async def publish(redis: aioredis.Redis, kind: str, **fields: object) -> None:
    event = {"type": kind, "ts": int(time.time() * 1000), **fields}
    await redis.publish(CHANNEL, json.dumps(event, ensure_ascii=False, default=str))


def visible_to(event: dict, user_id: int, roles: frozenset[str]) -> bool:
    """Supervisors see everything; a counsellor sees the queue, alerts, and their own cases' traffic."""
    if "supervisor" in roles:
        return True
    if event.get("type") in ("message", "sent", "note", "whisper"):
        return event.get("counsellor_id") == user_id
    return event.get("type") not in SUPERVISORS_ONLY
