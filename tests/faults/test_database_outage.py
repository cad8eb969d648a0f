"""PostgreSQL unavailable: a crisis message is answered with the emergency numbers at once, and when
the database is back the spool drainer (the service's own loop, not the test) writes it, opens and
queues its case, and sends the crisis replies once. Simulated as tests/test_outage.py does: the
service's sessionmaker points at a port where nothing listens."""
from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import select

from bot import spool_drain
from bot.models import Message
from handoff.models import Case
from handoff.queue import CaseQueue
from tests.conftest import settle
from tests.database_down import database_down
from tests.faults.retrying import duplicate_pushes, text_xml
from tests.faults.test_redis_restart import CRISIS, wait_until


async def test_crisis_during_a_database_outage_is_answered_then_written_and_queued(platform, services, mock_wechat,
                                                                                   monkeypatch):
    rounds = asyncio.Event()  # set by each round of the service's own drainer loop
    drain_once = spool_drain.drain_once

    async def drain_once_noted(services):
        try:
            return await drain_once(services)
        finally:
            rounds.set()

    monkeypatch.setattr(spool_drain, "drain_once", drain_once_noted)
    async with database_down(services):
        crisis = text_xml("o-down", CRISIS, 88001)
        answer = await platform.send_xml(crisis)
        assert "12356" in answer.text and "110" in answer.text
        retry = await platform.send_xml(crisis)  # the platform's retry: the stored answer, not a second spool
        assert retry.text == answer.text
        await platform.send_xml(text_xml("o-down", "还在吗", 88002))
        rounds.clear()
        await asyncio.wait_for(rounds.wait(), timeout=10)  # the drainer's loop ran against the dead database
        assert await services.spool.size() == 2

    assert await wait_until(lambda: _drained(services)), "the spool was not drained once the database was back"
    await settle(services)
    async with services.db() as session:
        rows = list(await session.scalars(select(Message).order_by(Message.id)))
        [case] = list(await session.scalars(select(Case)))
    inbound = Counter(m.platform_msg_id for m in rows if m.direction == "in")
    assert inbound == Counter({"88001": 1, "88002": 1})
    assert [m.content for m in rows if m.direction == "in"] == [CRISIS, "还在吗"]  # in the order sent
    assert case.level == 4 and case.status == "waiting"
    assert await CaseQueue(services.redis).waiting() == [case.id]
    assert [m for m in mock_wechat.state.sent if m["touser"] == "o-down"], "the crisis replies never went out"
    assert duplicate_pushes(mock_wechat.state) == []


async def _drained(services) -> bool:
    """The spool is empty and its last message written (the drainer takes a message before writing it)."""
    if await services.spool.size():
        return False
    async with services.db() as session:
        ids = set(await session.scalars(select(Message.platform_msg_id).where(Message.direction == "in")))
    return {"88001", "88002"} <= ids
