"""Many residents writing at once, interleaved (A B C A D B A ...): every message, case, detection and
assessment belongs to the resident who made it, whichever way it came in (the webhook one by one or
all at once, a counsellor in the console, the spool after an outage). On SQLite a RETURNING subquery
once filed them in other residents' conversations; the schema now refuses that too."""
from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from bot.models import Conversation, Message, Resident
from bot.spool_drain import drain_once
from bot.values import Inbound
from flows.models import Assessment
from handoff.detections import CrisisDetection
from handoff.models import Case
from tests.conftest import settle
from tests.consent import consent_in_chat

CRISIS = "我已经写好遗书，今晚就从楼顶跳下去"
RESIDENTS = [f"o-apart-{name}" for name in "ABCDEFGH"]
ORDER = "A B C A D B A E C F A G B H D A C E".split()  # the interleaving a busy evening brings
_ids = itertools.count(81_000_000)


def openid(letter: str) -> str:
    return f"o-apart-{letter}"


def marked(letter: str, n: int) -> str:
    """A message that names its writer, so a misfiled row is seen by its content alone."""
    return f"我是{letter}，第{n}条消息"


async def misfiled(services) -> list[str]:
    """Every row that does not belong with the resident it names or the conversation it sits in."""
    problems = []
    async with services.db() as session:
        owners = dict((await session.execute(select(Conversation.id, Conversation.resident_id))).all())
        openids = dict((await session.execute(select(Resident.id, Resident.openid))).all())
        for m in await session.scalars(select(Message)):
            if owners[m.conversation_id] != m.resident_id:
                problems.append(f"message {m.id} of {openids[m.resident_id]} in another's conversation")
            if m.content.startswith("我是") and openids[m.resident_id] != openid(m.content[2]):
                problems.append(f"message {m.content!r} filed under {openids[m.resident_id]}")
        for case in await session.scalars(select(Case)):
            if owners.get(case.conversation_id) != case.resident_id:
                problems.append(f"case {case.id} points at another resident's conversation")
        for d in await session.scalars(select(CrisisDetection)):
            if owners.get(d.conversation_id) != d.resident_id:
                problems.append(f"detection {d.id} points at another resident's conversation")
        for a in await session.scalars(select(Assessment)):
            if openids[a.resident_id] != openid("C"):
                problems.append(f"assessment {a.id} filed under {openids[a.resident_id]}")
    return problems


async def test_interleaved_messages_through_the_webhook_stay_with_their_residents(platform, services):
    seen = {letter: 0 for letter in "ABCDEFGH"}
    for letter in ORDER:  # one by one, interleaved
        seen[letter] += 1
        await platform.text(openid(letter), marked(letter, seen[letter]), msg_id=next(_ids))
    await platform.text(openid("B"), CRISIS, msg_id=next(_ids))
    await consent_in_chat(platform.text, openid("C"))  # C's results are kept
    await platform.text(openid("C"), "测评", msg_id=next(_ids))
    await platform.text(openid("C"), "GAD-2", msg_id=next(_ids))  # two questions
    for answer in ("0", "1"):
        await platform.text(openid("C"), answer, msg_id=next(_ids))
    await asyncio.gather(*(  # and all at once
        platform.text(openid(letter), marked(letter, 100 + n), msg_id=next(_ids))
        for n, letter in enumerate(ORDER)))
    await settle(services)
    assert await misfiled(services) == []
    async with services.db() as session:
        assert await session.scalar(select(Case.resident_id)) == await session.scalar(
            select(Resident.id).where(Resident.openid == openid("B")))
        assert await session.scalar(select(Assessment.scale)) == "GAD-2", "C's quick screen was not saved"


async def test_counsellor_replies_land_in_the_case_residents_conversation(platform, services, staff_client):
    for letter in "ABCD":
        await platform.text(openid(letter), marked(letter, 1), msg_id=next(_ids))
    await platform.text(openid("C"), "人工", msg_id=next(_ids))
    for letter in "ADBA":
        await platform.text(openid(letter), marked(letter, 2), msg_id=next(_ids))
    counsellor = await staff_client("c-apart")
    status, taken = await counsellor.post("/console/api/take")
    assert status == 200
    case_id = taken["case"]["id"]
    status, _ = await counsellor.post(f"/console/api/cases/{case_id}/messages", {"text": "你好，我在"})
    assert status == 200
    await settle(services)
    async with services.db() as session:
        c_id = await session.scalar(select(Resident.id).where(Resident.openid == openid("C")))
        reply = (await session.scalars(select(Message).where(Message.sender == "counsellor"))).one()
        conversation_owner = await session.scalar(
            select(Conversation.resident_id).where(Conversation.id == reply.conversation_id))
    assert (reply.resident_id, conversation_owner) == (c_id, c_id)
    assert await misfiled(services) == []


async def test_spooled_messages_drain_into_their_own_residents_conversations(platform, services):
    for letter in "ABC":
        await platform.text(openid(letter), marked(letter, 1), msg_id=next(_ids))
    now = datetime.now(timezone.utc)
    for n, letter in enumerate(ORDER):
        await services.spool.hold(Inbound(openid(letter), "text", now, text=marked(letter, 50 + n),
                                          msg_id=str(next(_ids))), "busy")
    await drain_once(services)  # the app's own drainer, every 2 s, may take some of them first
    for _ in range(200):
        if not await services.spool.size() and not await services.spool.in_progress():
            break
        await asyncio.sleep(0.05)
    await settle(services)
    async with services.db() as session:
        drained = await session.scalar(select(func.count()).select_from(Message).where(Message.content.like("我是_，第__条消息")))
    assert drained == len(ORDER)
    assert await misfiled(services) == []


async def test_the_schema_refuses_a_message_in_another_residents_conversation(platform, services):
    await platform.text(openid("A"), marked("A", 1), msg_id=next(_ids))
    await platform.text(openid("B"), marked("B", 1), msg_id=next(_ids))
    async with services.db() as session:
        a_id, b_id = [await session.scalar(select(Resident.id).where(Resident.openid == openid(x))) for x in "AB"]
        a_conversation = await session.scalar(select(Conversation.id).where(Conversation.resident_id == a_id))
        with pytest.raises(IntegrityError):
            await session.execute(insert(Message).values(
                conversation_id=a_conversation, resident_id=b_id, direction="in", sender="resident", kind="text",
                content="我是B，放错了", platform_msg_id="", delivery="", error="", created_at=datetime.now(timezone.utc)))
            await session.commit()


async def test_the_migration_moves_misfiled_messages_to_their_own_residents(clean_database):
    """A live database written before the fix: each misfiled message moves to its resident's own
    conversation of that time (or a new one), a case that followed it moves too, and then the key holds."""
    from alembic import command

    from bot.db import make_engine
    from bot.migrate import alembic_config, upgrade

    await asyncio.to_thread(command.downgrade, alembic_config(clean_database), "0004_inbound_once")
    engine = make_engine(clean_database)
    earlier, now = datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 12, 1, tzinfo=timezone.utc)
    row = dict(direction="in", sender="resident", kind="text", delivery="", error="", author_id=None,
               platform_msg_id="", created_at=now)
    try:
        async with engine.begin() as conn:
            people = {}
            for letter in "ABC":
                people[letter] = (await conn.execute(insert(Resident).returning(Resident.id), dict(
                    openid=openid(letter), subscribed=True, language="zh-Hans", area="", name="", scene="",
                    created_at=earlier))).scalar_one()
            a_conv, b_conv = [(await conn.execute(insert(Conversation).returning(Conversation.id), dict(
                resident_id=people[x], started_at=earlier, last_at=earlier, max_risk=0))).scalar_one() for x in "AB"]
            await conn.execute(insert(Message), [
                row | dict(conversation_id=a_conv, resident_id=people["A"], content=marked("A", 1)),
                row | dict(conversation_id=a_conv, resident_id=people["B"], content=marked("B", 1)),
                row | dict(conversation_id=b_conv, resident_id=people["C"], content=marked("C", 1))])
            await conn.execute(insert(Case), dict(resident_id=people["C"], conversation_id=b_conv, reason="crisis",
                                                  level=4, status="waiting", queued_at=now))
        await asyncio.to_thread(upgrade, clean_database)
        async with engine.connect() as conn:
            placed = (await conn.execute(select(Message.content, Message.resident_id, Conversation.resident_id).join(
                Conversation, Conversation.id == Message.conversation_id).order_by(Message.id))).all()
            case_owner = await conn.scalar(select(Conversation.resident_id).join(
                Case, Case.conversation_id == Conversation.id))
        assert [(c, r == o) for c, r, o in placed] == [(marked(x, 1), True) for x in "ABC"]
        assert placed[1][2] == people["B"] and case_owner == people["C"]
    finally:
        await engine.dispose()
        await asyncio.to_thread(upgrade, clean_database)
