"""A resident's message is in the transcript once, however often it is recorded: a platform retry
that took over a killed worker's turn, or a message written before an outage cut the connection and
then drained from the spool. Messages without a platform id (events) are never merged."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import event, func, insert, select

from bot.db import make_engine
from bot.migrate import alembic_config, upgrade
from bot.models import Conversation, Message, Resident
from bot.transcript import Transcript
from bot.turn import run_turn
from bot.values import Inbound, Reply
from handoff.detections import CrisisDetection


@pytest.fixture
async def engine(clean_database):
    engine = make_engine(clean_database)
    yield engine
    await engine.dispose()


def text_message(openid: str, msg_id: str, text: str = "我睡不着") -> Inbound:
    return Inbound(openid, "text", datetime.now(timezone.utc) - timedelta(seconds=30), text=text, msg_id=msg_id)


async def inbound_rows(engine) -> list[tuple[str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(Message.platform_msg_id, Message.content)
                                  .where(Message.direction == "in").order_by(Message.id))
    return [tuple(row) for row in rows]


async def test_the_same_platform_message_recorded_twice_is_one_row_and_the_same_ref(engine):
    transcript = Transcript(engine)
    first = await transcript.record_inbound(text_message("o-twice", "910001"))
    again = await transcript.record_inbound(text_message("o-twice", "910001"))
    assert again == first and first.is_new  # the retry still greets a first-time resident
    assert await inbound_rows(engine) == [("910001", "我睡不着")]


async def test_a_message_written_before_an_outage_and_drained_late_is_one_row(engine):
    transcript = Transcript(engine)
    await transcript.record_inbound(text_message("o-old", "910002", "上一条"))
    first = await transcript.record_inbound(text_message("o-old", "910003"))
    late = await transcript.record_inbound(text_message("o-old", "910003"), late=True)
    assert late == first and not late.is_new
    assert await inbound_rows(engine) == [("910002", "上一条"), ("910003", "我睡不着")]


async def test_events_without_a_platform_id_are_all_written(engine):
    transcript = Transcript(engine)
    tap = Inbound("o-taps", "event", datetime.now(timezone.utc), event="click", event_key="MENU")
    await transcript.record_inbound(tap)
    await transcript.record_inbound(tap)
    assert await inbound_rows(engine) == [("", "MENU"), ("", "MENU")]


async def test_the_same_platform_id_from_two_residents_is_two_messages(engine):
    transcript = Transcript(engine)
    one = await transcript.record_inbound(text_message("o-one", "910004"))
    other = await transcript.record_inbound(text_message("o-other", "910004"))
    assert one.id != other.id
    assert len(await inbound_rows(engine)) == 2


async def test_recording_a_message_stays_one_statement_or_three_and_a_repeat_adds_one_read(engine):
    transcript = Transcript(engine)
    await transcript.record_inbound(text_message("o-cost", "910005"))
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda conn, cursor, sql, *args: statements.append(sql.split()[0].upper()))
    await transcript.record_inbound(text_message("o-cost", "910006"))
    # PostgreSQL: one CTE; SQLite: the resident and conversation read back, the conversation touched, the message
    written = ["WITH"] if engine.dialect.name == "postgresql" else ["UPDATE", "UPDATE", "INSERT"]
    assert statements == written
    statements.clear()
    await transcript.record_inbound(text_message("o-cost", "910006"))
    assert statements == [*written, "SELECT"]


async def test_a_retry_that_takes_over_a_killed_workers_turn_writes_the_message_once(services):
    seen: list[str] = []

    async def record_stage(turn):
        seen.append(turn.inbound.text)
        return [Reply(text="收到")]

    services.pipeline.add(1, "record", record_stage)
    message = text_message("o-retried", "910007")
    first, _ = await run_turn(services, message)  # the worker that was then killed before answering
    again, _ = await run_turn(services, message)  # the platform's retry, once the claim lapsed
    assert again == first and seen == ["我睡不着"] * 2
    async with services.db() as session:
        count = await session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))
    assert count == 1


async def test_the_migration_keeps_the_first_of_earlier_copies_and_repoints_detections(clean_database):
    """A live database with copies written before the index: the migration keeps the first of each,
    and a crisis detection that pointed at a copy points at the kept row."""
    await asyncio.to_thread(command.downgrade, alembic_config(clean_database), "0003_tag_dates")
    engine = make_engine(clean_database)
    try:
        await _write_copies(engine)
        await asyncio.to_thread(upgrade, clean_database)
        assert await inbound_rows(engine) == [("910008", "我睡不着"), ("910009", "另一条")]
        async with engine.connect() as conn:
            pointed = await conn.scalar(select(Message.platform_msg_id).join(
                CrisisDetection, CrisisDetection.message_id == Message.id))
        assert pointed == "910008"
    finally:
        await engine.dispose()
        await asyncio.to_thread(upgrade, clean_database)


async def _write_copies(engine) -> None:
    now = datetime.now(timezone.utc)
    message = dict(direction="in", sender="resident", kind="text", delivery="", error="", author_id=None,
                   created_at=now)
    async with engine.begin() as conn:
        resident = (await conn.execute(insert(Resident).returning(Resident.id), dict(
            openid="o-copies", subscribed=True, language="zh-Hans", area="", name="", scene="",
            created_at=now))).scalar_one()
        conversation = (await conn.execute(insert(Conversation).returning(Conversation.id), dict(
            resident_id=resident, started_at=now, last_at=now, max_risk=0))).scalar_one()
        ids = [(await conn.execute(insert(Message).returning(Message.id), message | dict(
            conversation_id=conversation, resident_id=resident, platform_msg_id=msg_id, content=content))
                ).scalar_one() for msg_id, content in (("910008", "我睡不着"), ("910009", "另一条"),
                                                       ("910008", "我睡不着"), ("910009", "另一条"))]
        await conn.execute(insert(CrisisDetection), dict(
            resident_id=resident, conversation_id=conversation, message_id=ids[2], source="message", level=2,
            matched=[], reason="", action="none", false_alarm=False, created_at=now))
