"""Where a known resident's message goes: the same on PostgreSQL's one statement and SQLite's three
(bot/inbound_statement.py, bot/transcript.py). The CI runs this file on both backends."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from bot.db import make_engine
from bot.models import Conversation, Message, Resident
from bot.transcript import CONVERSATION_GAP, RESIDENT_ID, Transcript
from bot.values import Inbound

HOUR = timedelta(hours=1)


@pytest.fixture
async def engine(clean_database):
    engine = make_engine(clean_database)
    yield engine
    await engine.dispose()


def text(msg_id: str, at: datetime | None = None) -> Inbound:
    return Inbound("o-paths", "text", at or datetime.now(timezone.utc), text="在吗", msg_id=msg_id)


async def conversations(engine) -> list[tuple[int, datetime]]:
    async with engine.connect() as conn:
        return [tuple(row) for row in await conn.execute(
            select(Conversation.id, Conversation.last_at).order_by(Conversation.id))]


async def silent_since(engine, conversation_id: int, ago: timedelta) -> datetime:
    """The conversation's last message as if `ago` had passed since."""
    last_at = datetime.now(timezone.utc) - ago
    async with engine.begin() as conn:
        await conn.execute(update(Conversation).where(Conversation.id == conversation_id).values(last_at=last_at))
    return last_at


async def test_a_message_within_the_gap_joins_the_conversation_and_moves_its_time(engine):
    transcript = Transcript(engine)
    first = await transcript.record_inbound(text("920001"))
    before = await silent_since(engine, first.conversation_id, CONVERSATION_GAP - HOUR)
    second = await transcript.record_inbound(text("920002"))
    assert second.conversation_id == first.conversation_id and not second.is_new
    [(_, last_at)] = await conversations(engine)
    assert last_at > before + HOUR


async def test_a_message_after_the_gap_opens_a_new_conversation(engine):
    transcript = Transcript(engine)
    first = await transcript.record_inbound(text("920003"))
    before = await silent_since(engine, first.conversation_id, CONVERSATION_GAP + HOUR)
    second = await transcript.record_inbound(text("920004"))
    assert second.conversation_id != first.conversation_id and second.id == first.id
    assert [conversation for conversation, _ in await conversations(engine)] == [first.conversation_id,
                                                                                 second.conversation_id]
    assert (await conversations(engine))[0][1] == before  # the old one is left as it was
    async with engine.connect() as conn:
        filed = (await conn.execute(select(Message.conversation_id).where(Message.platform_msg_id == "920004"))).one()
    assert filed == (second.conversation_id,)


async def test_a_late_message_joins_the_conversation_without_moving_its_time_back(engine):
    transcript = Transcript(engine)
    first = await transcript.record_inbound(text("920005"))
    [(_, last_at)] = await conversations(engine)
    late = await transcript.record_inbound(text("920006", last_at - 2 * HOUR), late=True)
    assert late.conversation_id == first.conversation_id
    assert await conversations(engine) == [(first.conversation_id, last_at)]
    async with engine.connect() as conn:
        kept_at = await conn.scalar(select(Message.created_at).where(Message.platform_msg_id == "920006"))
    assert kept_at == last_at - 2 * HOUR


async def test_a_message_marks_when_the_resident_last_wrote_and_reads_the_facts_asked_for(engine):
    transcript = Transcript(engine)
    transcript.read_with_resident("scene", select(Resident.scene).where(Resident.id == RESIDENT_ID).scalar_subquery())
    await transcript.record_inbound(Inbound("o-paths", "event", datetime.now(timezone.utc), event="subscribe",
                                            event_key="qrscene_park"))
    ref = await transcript.record_inbound(text("920007"))
    assert ref.facts == {"scene": "qrscene_park"} and ref.subscribed
    async with engine.connect() as conn:
        last_inbound_at = await conn.scalar(select(Resident.last_inbound_at))
    assert datetime.now(timezone.utc) - last_inbound_at < HOUR


async def test_an_unsubscribed_resident_who_writes_stays_unsubscribed(engine):
    transcript = Transcript(engine)
    await transcript.record_inbound(text("920008"))
    await transcript.record_inbound(Inbound("o-paths", "event", datetime.now(timezone.utc), event="unsubscribe"))
    ref = await transcript.record_inbound(text("920009"))
    assert not ref.subscribed and ref.language == "zh-Hans"
