"""Safety fixtures: residents who write through the real webhook, counsellors on duty, the console's events."""
from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from bot.auth.users import add_user
from bot.models import Resident
from handoff.events import CHANNEL
from handoff.models import Case
from handoff.roster import set_weekly


@pytest.fixture
def on_duty(services):
    """A counsellor on the roster all week, so handoffs queue instead of falling back."""
    async def make(username: str = "c-safety", role: str = "counsellor") -> int:
        staff = await add_user(services.db, username, "test-password-1", [role])
        async with services.db.begin() as session:
            await set_weekly(session, staff.id, role, list(range(7)), "00:00", "24:00")
        return staff.id
    return make


@pytest.fixture
async def console_events(services):
    """Everything the consoles hear (queued, alert, raised, ...), as the hub receives it."""
    pubsub = services.redis.pubsub()
    await pubsub.subscribe(CHANNEL)
    heard: list[dict] = []

    async def collect() -> list[dict]:
        while True:
            message = await pubsub.get_message(timeout=0.2)
            if message is None:
                return heard
            if message["type"] == "message":
                heard.append(json.loads(message["data"]))

    yield collect
    await pubsub.unsubscribe(CHANNEL)
    await pubsub.aclose()


async def resident_id(services, openid: str) -> int:
    async with services.db() as session:
        return await session.scalar(select(Resident.id).where(Resident.openid == openid))


async def cases_of(services, openid: str) -> list[Case]:
    rid = await resident_id(services, openid)
    async with services.db() as session:
        return list(await session.scalars(select(Case).where(Case.resident_id == rid).order_by(Case.id)))


async def wait_for(condition, timeout: float = 3.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        result = await condition()
        if result:
            return result
        await asyncio.sleep(0.02)
    return await condition()
