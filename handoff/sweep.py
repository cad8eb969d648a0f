"""The periodic sweep: escalation timers, fallbacks, vanished consoles, queue repair.

Every worker runs the loop, but one pass at a time runs anywhere (a Redis lock), so timers
survive any single worker dying and never fire twice. Each step is a plain async function of
`services` and `now`, so tests call them directly.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.db import utcnow
from bot.services import Services
from bot.values import Reply
from handoff import cases, content, events, transfers
from handoff.models import Case
from handoff.presence import Presence
from handoff.queue import CaseQueue, now_ms
from handoff.recovery import reconcile
from handoff.requests import counsellors_available, estimate_wait, fallback_replies, resident_area

log = logging.getLogger(__name__)

LOCK_KEY = "xz:handoff:sweep"
INTERVAL = 2.0
ESCALATE_AFTER = {4: 60, 3: 180}  # seconds unclaimed before the supervisor is called in
DEFAULT_ESCALATE_AFTER = 600
CONSOLE_GONE_AFTER_MS = 90_000  # a counsellor's console silent this long: their cases go back
POSITION_UPDATE_RATIO = 0.5  # tell the resident again when their place has halved


def escalate_after(level: int) -> int:
    return ESCALATE_AFTER.get(level, DEFAULT_ESCALATE_AFTER)


async def escalate_and_fall_back(services: Services, now: datetime) -> tuple[list[int], list[int]]:
    """Unclaimed past the level's limit: alert the supervisor; past it again: give the resident the fallback."""
    escalated, fell_back = [], []
    async with services.db() as session:
        waiting = list(await session.scalars(select(Case).where(Case.status == "waiting")))
    for case in waiting:
        limit = timedelta(seconds=escalate_after(case.level))
        if case.escalated_at is None and now - case.queued_at >= limit:
            if await _stamp(services, case.id, "escalated_at", now, "escalated"):
                escalated.append(case.id)
                await events.publish(services.redis, "escalated", **cases.case_fields(case))
        elif case.escalated_at is not None and case.fallback_at is None and now - case.escalated_at >= limit:
            if await _stamp(services, case.id, "fallback_at", now, "fallback"):
                fell_back.append(case.id)
                ref = await cases.resident_ref(services, case.resident_id)
                area = await resident_area(services, ref.id)
                await services.messenger.send(ref, fallback_replies(services.knowledge, ref.language, area, now))
                await events.publish(services.redis, "fallback", **cases.case_fields(case))
    return escalated, fell_back


async def _stamp(services: Services, case_id: int, column: str, now: datetime, kind: str) -> bool:
    """Set a timer column once (compare-and-set), so two sweeps can never both act."""
    column_attr = getattr(Case, column)
    async with services.db.begin() as session:
        done = await session.execute(update(Case).where(Case.id == case_id, Case.status == "waiting",
                                                        column_attr.is_(None)).values({column: now}))
        if done.rowcount:
            await cases.log_event(session, case_id, kind)
    return bool(done.rowcount)


async def requeue_vanished(services: Services, gone_after_ms: int = CONSOLE_GONE_AFTER_MS,
                           now: int | None = None) -> list[int]:
    """Cases held by a counsellor whose console stopped beating (the browser closed, the network
    went) stay theirs for the grace period, then go back to the queue at their risk position; a
    level 3-4 case also alerts the supervisors, who should see that a person at risk was let go."""
    presence = Presence(services.redis)
    seen = await presence.all()
    now = now or now_ms()
    back = []
    async with services.db() as session:
        active = list(await session.scalars(select(Case).where(Case.status == "active")))
    for case in active:
        last = seen.get(case.counsellor_id)
        if last is None:  # never seen (e.g. Redis was flushed): start the clock now, not in the past
            await presence.beat(case.counsellor_id, "away", now)
            continue
        if now - last.at_ms >= gone_after_ms and await cases.requeue(services, case.id, None, "console gone"):
            back.append(case.id)
            if case.level >= 3:
                await events.publish(services.redis, "console_gone", from_id=case.counsellor_id,
                                     counsellor=await cases.staff_name(services, case.counsellor_id),
                                     **dict(cases.case_fields(case), status="waiting", counsellor_id=None))
    return back


async def update_positions(services: Services) -> list[int]:
    """Tell a waiting resident their new place only when it changed meaningfully (the send allowance is small)."""
    queue = CaseQueue(services.redis)
    told = []
    order = await queue.waiting()
    if not order:
        return told
    async with services.db() as session:
        waiting = {c.id: c for c in await session.scalars(select(Case).where(Case.id.in_(order)))}
    counsellors = await counsellors_available(services, utcnow())
    for position, case_id in enumerate(order, start=1):
        case = waiting.get(case_id)
        if case is None or case.fallback_at is not None or case.level >= 3 or case.told_position < 3:
            continue
        if position > case.told_position * POSITION_UPDATE_RATIO:
            continue
        async with services.db.begin() as session:
            await session.execute(update(Case).where(Case.id == case_id).values(told_position=position))
        ref = await cases.resident_ref(services, case.resident_id)
        wait = content.wait_text(services.knowledge, estimate_wait(position, counsellors), ref.language)
        await services.messenger.send(ref, [Reply(text=content.say(services.knowledge, "position_update", ref.language,
                                                                   position=position, wait=wait))])
        told.append(case_id)
    return told


async def sweep_once(services: Services, now: datetime | None = None) -> None:
    now = now or utcnow()
    await reconcile(services)
    await escalate_and_fall_back(services, now)
    await requeue_vanished(services)
    await transfers.expire(services)
    await update_positions(services)


async def run_sweeps(services: Services, interval: float = INTERVAL) -> None:
    """Forever: take the cluster-wide lock for one pass, run it, sleep. Errors are logged, never fatal."""
    while True:
        try:
            if await services.redis.set(LOCK_KEY, "1", nx=True, px=int(interval * 1000 * 0.9)):
                await sweep_once(services)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("handoff sweep failed; will retry")
        await asyncio.sleep(interval)
