"""A database outage: the webhook still answers with the emergency numbers, keeps every message
in Redis, and writes it (and runs its turn) once the database is back."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import create_async_engine

from bot.models import Message
from bot.spool_drain import drain_once
from bot.values import Inbound, Reply
from tests.conftest import REAL_DB, needs_real_db
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


async def test_an_entry_the_database_refuses_is_parked_and_the_rest_are_written(services, monkeypatch):
    """The database is up but refuses one spooled message: it is kept aside, and it does not hold
    back the messages behind it."""
    refuse = services.transcript.record_inbound

    async def refusing(inbound, **kwargs):
        if inbound.openid == "o-refused":
            raise IntegrityError("INSERT", {}, Exception("refused"))
        return await refuse(inbound, **kwargs)

    monkeypatch.setattr(services.transcript, "record_inbound", refusing)
    now = datetime.now(timezone.utc)
    await services.spool.hold(Inbound("o-refused", "text", now, text="第一条"), "busy")
    await services.spool.hold(Inbound("o-behind", "text", now, text="我不想活了"), "busy")
    assert await drain_once(services) == 1
    assert (await services.spool.size(), await services.spool.parked()) == (0, 1)
    async with services.db() as session:
        written = list(await session.scalars(select(Message.content).where(Message.direction == "in")))
    assert written == ["我不想活了"]


async def test_an_entry_met_by_a_busy_database_waits_in_line_and_is_written_later(services, monkeypatch):
    """An exhausted connection pool is load, not a refusal: the entry goes back, first in line."""
    record = services.transcript.record_inbound

    async def pool_exhausted(inbound, **kwargs):
        raise PoolTimeout("QueuePool limit reached")

    monkeypatch.setattr(services.transcript, "record_inbound", pool_exhausted)
    await services.spool.hold(Inbound("o-busy", "text", datetime.now(timezone.utc), text="我不想活了"), "busy")
    assert await drain_once(services) == 0
    assert (await services.spool.size(), await services.spool.parked()) == (1, 0)
    monkeypatch.setattr(services.transcript, "record_inbound", record)
    assert await drain_once(services) == 1
    assert (await services.spool.size(), await services.spool.parked()) == (0, 0)


@needs_real_db
async def test_a_message_postgresql_cannot_store_is_parked_not_retried_for_ever(services):
    await services.spool.hold(Inbound("o-nul", "text", datetime.now(timezone.utc), text="a\x00b"), "busy")
    assert await drain_once(services) == 0
    assert (await services.spool.size(), await services.spool.parked()) == (0, 1)


@needs_real_db
async def test_connections_cut_by_the_server_lose_no_message(platform, services, database_url):
    """As after a PostgreSQL restart: every pooled connection is dead. The first message may take the
    outage path; none is lost, and the next ones are served on fresh connections."""
    services.pipeline.add(1, "echo", _echo)
    assert (await platform.text("o-cut", "第一")).text == "收到:第一"
    admin = create_async_engine(REAL_DB, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": database_url.rsplit("/", 1)[1]})
    await admin.dispose()
    second = await platform.text("o-cut", "第二")
    assert second.text == "收到:第二" or "12356" in second.text
    await drain_once(services)
    assert (await platform.text("o-cut", "第三")).text == "收到:第三"
    async with services.db() as session:
        written = list(await session.scalars(select(Message.content).where(Message.direction == "in")))
    assert sorted(written) == sorted(["第一", "第二", "第三"])  # each once; a late write keeps its send time


async def _echo(turn):
    return [Reply(text=f"收到:{turn.inbound.text}")]
