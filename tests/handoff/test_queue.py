"""The queue and the cases: atomic claims, cap, close, requeue, timers, recovery (transfers: test_transfers.py)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.db import utcnow
from handoff import cases
from handoff.models import Case, CaseEvent, FollowUp
from handoff.presence import Presence
from handoff.queue import CaseQueue, now_ms, queue_score
from handoff.recovery import reconcile
from handoff.requests import request_handoff
from handoff.sweep import escalate_and_fall_back, requeue_vanished
from tests.conftest import settle
from tests.handoff.conftest import sent_texts


async def open_cases(services, make_resident, levels, prefix="o-q"):
    ids = []
    for n, level in enumerate(levels):
        ref = await make_resident(f"{prefix}-{n}")
        ids.append((await request_handoff(services, ref, reason="request", level=level)).case_id)
    return ids


async def db_case(services, case_id) -> Case:
    async with services.db() as session:
        return await session.get(Case, case_id)


async def event_kinds(services, case_id) -> list[str]:
    async with services.db() as session:
        return list(await session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id)
                                          .order_by(CaseEvent.id)))


async def test_take_next_gets_the_highest_risk_first(services, make_staff, make_resident):
    counsellor = await make_staff("c1")
    ids = await open_cases(services, make_resident, [1, 3, 0])
    claimed = await cases.claim(services, counsellor)
    assert claimed.status == "ok" and claimed.case.id == ids[1]
    case = await db_case(services, ids[1])
    assert case.status == "active" and case.counsellor_id == counsellor and case.claimed_at is not None
    assert await CaseQueue(services.redis).waiting() == [ids[0], ids[2]]


async def test_many_concurrent_claims_never_hand_one_case_to_two_counsellors(services, make_staff, make_resident):
    staff = [await make_staff(f"c{n}", max_chats=2) for n in range(8)]
    ids = await open_cases(services, make_resident, [n % 5 for n in range(12)])
    results = await asyncio.gather(*(cases.claim(services, s) for s in staff for _ in range(3)))
    won = [r.case.id for r in results if r.status == "ok"]
    assert len(won) == len(set(won)) == 12
    assert {r.status for r in results if r.status != "ok"} <= {"empty", "cap"}
    async with services.db() as session:
        rows = list(await session.scalars(select(Case)))
    assert all(c.status == "active" for c in rows)
    per_counsellor = [sum(1 for c in rows if c.counsellor_id == s) for s in staff]
    assert max(per_counsellor) <= 2 and sum(per_counsellor) == 12
    assert set(ids) == {c.id for c in rows}


async def test_a_counsellor_at_the_cap_cannot_take_another(services, make_staff, make_resident):
    counsellor = await make_staff("c1", max_chats=2)
    await open_cases(services, make_resident, [0, 0, 0])
    assert [(await cases.claim(services, counsellor)).status for _ in range(3)] == ["ok", "ok", "cap"]
    assert await CaseQueue(services.redis).size() == 1


async def test_taking_a_chosen_case_that_someone_took_already_says_gone(services, make_staff, make_resident):
    first, second = await make_staff("c1"), await make_staff("c2")
    [case_id] = await open_cases(services, make_resident, [2])
    assert (await cases.claim(services, first, case_id)).status == "ok"
    assert (await cases.claim(services, second, case_id)).status == "gone"


async def test_close_records_outcome_rating_and_schedules_a_follow_up(services, make_staff, make_resident, mock_wechat):
    counsellor = await make_staff("c1")
    [case_id] = await open_cases(services, make_resident, [3])
    await cases.claim(services, counsellor)
    due = utcnow() + timedelta(days=3)
    case, deliveries = await cases.close(services, case_id, counsellor, "follow_up", 2, "talked it through",
                                         cases.FollowUpPlan(due, "template", None))
    assert case.status == "closed" and case.outcome == "follow_up" and case.counsellor_risk_rating == 2
    assert deliveries and deliveries[0].ok
    assert await CaseQueue(services.redis).claims() == {}
    async with services.db() as session:
        follow_up = await session.scalar(select(FollowUp))
    assert follow_up.sent_at is None and follow_up.channel == "template" and follow_up.staff_id is None
    assert abs((follow_up.due_at.replace(tzinfo=due.tzinfo) - due).total_seconds()) < 1
    assert any("本次与咨询师的对话已结束" in t for t in sent_texts(mock_wechat, "o-q-0"))


async def test_false_alarm_is_kept_for_tuning(services, make_staff, make_resident):
    counsellor = await make_staff("c1")
    [case_id] = await open_cases(services, make_resident, [3])
    await cases.claim(services, counsellor)
    case, _ = await cases.close(services, case_id, counsellor, "false_alarm", 0, "误报：在说一部电影")
    assert case.false_alarm and (await db_case(services, case_id)).false_alarm


async def test_a_vanished_console_puts_the_case_back_at_its_old_place(services, make_staff, make_resident):
    counsellor = await make_staff("c1")
    first, later = await open_cases(services, make_resident, [1, 1])
    await cases.claim(services, counsellor, first)
    newer_ids = await open_cases(services, make_resident, [1], prefix="o-q-newer")
    presence = Presence(services.redis)
    await presence.beat(counsellor, "online", now_ms() - 10_000)
    assert await requeue_vanished(services, gone_after_ms=60_000) == []
    await presence.beat(counsellor, "online", now_ms() - 120_000)
    assert await requeue_vanished(services, gone_after_ms=60_000) == [first]
    assert await CaseQueue(services.redis).waiting() == [first, later, newer_ids[0]]
    case = await db_case(services, first)
    assert case.status == "waiting" and case.counsellor_id is None
    assert "requeued" in await event_kinds(services, first)


async def test_an_unclaimed_case_escalates_then_falls_back_per_level(services, make_staff, make_resident, mock_wechat):
    await make_staff("c1")
    urgent, ordinary = await open_cases(services, make_resident, [4, 1])
    start = utcnow()
    assert await escalate_and_fall_back(services, start + timedelta(seconds=30)) == ([], [])
    assert await escalate_and_fall_back(services, start + timedelta(seconds=61)) == ([urgent], [])
    assert await escalate_and_fall_back(services, start + timedelta(seconds=62)) == ([], [])
    assert (await escalate_and_fall_back(services, start + timedelta(seconds=125)))[1] == [urgent]
    assert await escalate_and_fall_back(services, start + timedelta(seconds=601)) == ([ordinary], [])
    await settle(services)
    sent = sent_texts(mock_wechat, "o-q-0")
    assert any("12356" in t and "回电" in t for t in sent)
    assert await event_kinds(services, urgent) == ["queued", "escalated", "fallback"]
    assert (await db_case(services, urgent)).status == "waiting"  # still in the queue for whoever comes


async def test_the_queue_is_rebuilt_from_the_database_after_redis_is_flushed(services, make_staff, make_resident):
    counsellor = await make_staff("c1")
    ids = await open_cases(services, make_resident, [0, 4, 2, 3])
    await cases.claim(services, counsellor)  # the level 4 case
    await services.redis.flushdb()
    repairs = await reconcile(services)
    assert sorted(repairs.queued) == sorted([ids[0], ids[2], ids[3]]) and repairs.restored == [ids[1]]
    queue = CaseQueue(services.redis)
    assert await queue.waiting() == [ids[3], ids[2], ids[0]]
    assert (await queue.claims())[ids[1]].counsellor_id == counsellor
    assert (await cases.claim(services, counsellor)).case.id == ids[3]


async def test_a_worker_killed_after_the_redis_claim_but_before_the_database_loses_nothing(
        services, make_staff, make_resident):
    counsellor = await make_staff("c1")
    ids = await open_cases(services, make_resident, [1, 1])
    queue = CaseQueue(services.redis)
    assert (await queue.claim(counsellor, 3)).case_id == ids[0]  # ...and the worker dies here
    assert (await reconcile(services)).unclaimed == []  # within the grace period: maybe still in flight
    repairs = await reconcile(services, claim_grace_ms=0)
    assert repairs.unclaimed == [ids[0]]
    assert await queue.waiting() == ids and await queue.claims() == {}


async def test_a_claim_the_database_has_but_redis_lost_is_restored(services, make_staff, make_resident):
    counsellor = await make_staff("c1", max_chats=1)
    ids = await open_cases(services, make_resident, [2, 1])
    async with services.db.begin() as session:  # the database update landed; the Redis claim did not
        await session.execute(update(Case).where(Case.id == ids[0])
                              .values(status="active", counsellor_id=counsellor, claimed_at=utcnow()))
    assert (await reconcile(services)).restored == [ids[0]]
    queue = CaseQueue(services.redis)
    assert await queue.waiting() == [ids[1]]
    assert (await cases.claim(services, counsellor)).status == "cap"


async def test_closed_cases_left_in_redis_are_dropped(services, make_staff, make_resident):
    counsellor = await make_staff("c1")
    [case_id] = await open_cases(services, make_resident, [1])
    async with services.db.begin() as session:
        await session.execute(update(Case).where(Case.id == case_id).values(status="closed"))
    assert (await reconcile(services)).dropped == [case_id]
    assert await CaseQueue(services.redis).size() == 0
    assert (await cases.claim(services, counsellor)).status == "empty"


def test_a_time_without_its_zone_is_refused_not_read_in_the_machines_zone():
    """Stored times come back aware on both backends (bot.db.UTCDateTime); a naive one is a bug to show."""
    with pytest.raises(ValueError, match="aware UTC"):
        queue_score(3, datetime(2030, 1, 1, 9, 0))
