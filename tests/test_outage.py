"""A database outage: the webhook still answers with the emergency numbers, keeps every message
in Redis, and writes it (and runs its turn) once the database is back."""
from __future__ import annotations

from sqlalchemy import select

from bot.models import Message
from bot.spool_drain import drain_once
from bot.values import Reply
from tests.database_down import database_down


async def test_database_outage_answers_with_emergency_numbers_and_loses_nothing(platform, services):
    seen: list[str] = []

    async def record_stage(turn):
        seen.append(turn.inbound.text)
        return [Reply(text="收到")]

    services.pipeline.add(1, "record", record_stage)
    async with database_down(services):
        answer = await platform.text("o-outage", "我不想活了")
        assert answer.status == 200
        assert "12356" in answer.text and "110" in answer.text
        assert await services.spool.size() == 1
        assert seen == []  # no flow ran against a missing database
        assert await drain_once(services) == 0  # still down: the message stays spooled
        assert await services.spool.size() == 1

    assert await drain_once(services) == 1
    assert seen == ["我不想活了"]  # the turn ran once the database was back
    async with services.db() as session:
        rows = list(await session.scalars(select(Message).order_by(Message.id)))
    assert [(m.direction, m.content) for m in rows][0] == ("in", "我不想活了")
    assert rows[1].direction == "out" and "12356" in rows[1].content
    assert await services.spool.size() == 0


async def test_failing_stage_still_answers_with_the_numbers(platform, services):
    async def broken(turn):
        raise RuntimeError("a bug in a flow")

    services.pipeline.add(1, "broken", broken)
    answer = await platform.text("o-bug", "你好")
    assert "12356" in answer.text
