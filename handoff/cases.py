"""What happens to a case: claimed, transferred, put back, raised, closed; database first, then Redis, then the consoles.

Every change is written to the database (with a timeline row) before the queue keys move, so a
worker that dies between the two leaves a state `handoff.recovery` can repair from the record.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import localtime
from bot.db import utcnow
from bot.messenger import Delivery
from bot.models import Conversation, Resident, StaffUser
from bot.services import Services
from bot.stores.state import FlowState
from bot.transcript import RESIDENT_ID, ResidentRef
from bot.values import Reply
from handoff import content, events
from handoff.models import FOLLOW_UP_CHANNELS, OUTCOMES, Case, CaseEvent, FollowUp, Note
from handoff.offers import TransferOffers
from handoff.queue import CaseQueue

log = logging.getLogger(__name__)

OPEN = ("waiting", "active")
# A closed case's resident is asked "safe now / talk again" by this flow (flows/after_close.py) within a day.
AFTER_CLOSE = "after_close"
AFTER_CLOSE_SECONDS = 24 * 3600
DEFAULT_CAP = 3
FOLLOW_UP_AFTER = timedelta(days=2)


class CaseError(Exception):
    """A console action that cannot be done; the message is shown to the counsellor as is."""


@dataclass(frozen=True)
class Claimed:
    status: str  # ok, cap, empty, gone
    case: Case | None = None


def case_fields(case: Case) -> dict:
    """What a console event says about a case."""
    return {"case_id": case.id, "level": case.level, "status": case.status, "counsellor_id": case.counsellor_id,
            "resident_id": case.resident_id}


async def log_event(session: AsyncSession, case_id: int, kind: str, actor_id: int | None = None,
                    detail: str = "") -> None:
    session.add(CaseEvent(case_id=case_id, kind=kind, actor_id=actor_id, detail=detail[:255], at=utcnow()))


async def open_case(services: Services, resident_id: int) -> Case | None:
    """The resident's waiting or active case, if any (at most one is open at a time).

    Asked on every turn, so it reads without a transaction (one round trip, not three)."""
    async with services.autocommit() as session:
        return await session.scalar(select(Case).where(Case.resident_id == resident_id, Case.status.in_(OPEN))
                                    .order_by(Case.id.desc()).limit(1))


OPEN_CASE = "open_case"  # ResidentRef.facts: the id of the resident's open case, None for none


def open_case_id():
    """The open case's id, read with the resident's row as each message is written (bot.transcript).

    The statuses are bound one by one: an expanding IN would be rendered again on every message."""
    return (select(Case.id).where(Case.resident_id == RESIDENT_ID, Case.status.in_([literal(s) for s in OPEN]))
            .order_by(Case.id.desc()).limit(1).scalar_subquery())


async def turn_open_case(services: Services, ref: ResidentRef) -> Case | None:
    """`open_case` for a turn's resident, without a query when their row, read with the message, showed none."""
    if OPEN_CASE in ref.facts and ref.facts[OPEN_CASE] is None:
        return None
    return await open_case(services, ref.id)


async def get_case(services: Services, case_id: int) -> Case:
    async with services.db() as session:
        case = await session.get(Case, case_id)
    if case is None:
        raise CaseError("没有这个个案")
    return case


async def cap_of(services: Services, staff_id: int) -> int:
    async with services.db() as session:
        user = await session.get(StaffUser, staff_id)
    return user.max_chats if user is not None and user.max_chats > 0 else DEFAULT_CAP


async def resident_ref(services: Services, resident_id: int) -> ResidentRef:
    """Address a resident outside a turn: their latest conversation, so the transcript stays in one thread."""
    async with services.db() as session:
        resident = await session.get(Resident, resident_id)
        conversation_id = await session.scalar(
            select(Conversation.id).where(Conversation.resident_id == resident_id)
            .order_by(Conversation.last_at.desc()).limit(1))
    return ResidentRef(resident.id, resident.openid, conversation_id or 0, resident.language, False,
                       resident.subscribed)


async def claim(services: Services, staff_id: int, case_id: int | None = None) -> Claimed:
    """Take the head of the queue (or a chosen case): Redis decides atomically, then the record follows."""
    queue = CaseQueue(services.redis)
    result = await queue.claim(staff_id, await cap_of(services, staff_id), case_id)
    if result.status != "ok":
        return Claimed(result.status)
    async with services.db.begin() as session:
        done = await session.execute(update(Case).where(Case.id == result.case_id, Case.status == "waiting")
                                     .values(status="active", counsellor_id=staff_id, claimed_at=utcnow()))
        if done.rowcount == 0:
            await queue.release(result.case_id, staff_id)
            return Claimed("gone")
        await log_event(session, result.case_id, "claimed", staff_id)
        case = await session.get(Case, result.case_id)
    await events.publish(services.redis, "claimed", **case_fields(case))
    log.info("case claimed", extra={"case_id": case.id, "staff_id": staff_id, "level": case.level})
    return Claimed("ok", case)


async def move(services: Services, case_id: int, actor_id: int, from_id: int, to_id: int, kind: str,
               cap: int) -> Case:
    """Hand an active case from one holder to another (an accepted transfer, a take-over, a reassignment).

    Redis decides atomically (the case must still be `from_id`'s, the receiver under `cap`), so of
    two supervisors taking over one case together exactly one wins; then the record follows."""
    queue = CaseQueue(services.redis)
    answer = await queue.transfer(case_id, from_id, to_id, cap)
    if answer == "cap":
        raise CaseError(f"{await staff_name(services, to_id)} 已达到同时接待上限")
    if answer != "ok":
        held = (await queue.claims()).get(case_id)
        if held is not None and held.counsellor_id != from_id:
            raise CaseError(f"这个个案刚刚已由 {await staff_name(services, held.counsellor_id)} 接手")
        raise CaseError("这个个案已不在原咨询师手中，请刷新")
    async with services.db.begin() as session:
        done = await session.execute(update(Case).where(Case.id == case_id, Case.status == "active",
                                                        Case.counsellor_id == from_id).values(counsellor_id=to_id))
        if not done.rowcount:  # the record moved meanwhile; recovery puts Redis back in line with it
            raise CaseError("这个个案已不在原咨询师手中，请刷新")
        await log_event(session, case_id, kind, actor_id, f"{from_id}->{to_id}")
        case = await session.get(Case, case_id)
    await events.publish(services.redis, kind, from_id=from_id, actor_id=actor_id,
                         to_name=await staff_name(services, to_id), **case_fields(case))
    log.info("case moved", extra={"case_id": case_id, "kind": kind, "from_staff": from_id, "to_staff": to_id})
    return case


async def staff_name(services: Services, staff_id: int) -> str:
    async with services.db() as session:
        user = await session.get(StaffUser, staff_id)
    return (user.display_name or user.username) if user is not None else f"#{staff_id}"


async def requeue(services: Services, case_id: int, actor_id: int | None = None, detail: str = "") -> bool:
    """Put an active case back in the queue at its old place (its first queued time keeps its rank)."""
    async with services.db.begin() as session:
        case = await session.get(Case, case_id)
        if case is None or case.status != "active":
            return False
        previous = case.counsellor_id
        case.status, case.counsellor_id, case.claimed_at = "waiting", None, None
        await log_event(session, case_id, "requeued", actor_id, detail or f"from {previous}")
    await CaseQueue(services.redis).requeue(case_id, case.level, case.queued_at)
    await TransferOffers(services.redis).drop(case_id)
    await events.publish(services.redis, "requeued", from_id=previous, **case_fields(case))
    log.info("case requeued", extra={"case_id": case_id, "from_staff": previous})
    return True


async def raise_level(services: Services, case_id: int, level: int, evidence: str = "",
                      actor_id: int | None = None) -> Case | None:
    """A higher reading during an open case moves it up the queue and, at level 4, alerts everyone."""
    async with services.db.begin() as session:
        case = await session.get(Case, case_id)
        if case is None or case.status not in OPEN or level <= case.level:
            return None
        old = case.level
        case.level = level
        if evidence:
            case.evidence = "、".join(x for x in (case.evidence, evidence) if x)[:2000]
        await log_event(session, case_id, "raised", actor_id, f"{old}->{level}")
    if case.status == "waiting":
        await CaseQueue(services.redis).add(case.id, case.level, case.queued_at)
    await events.publish(services.redis, "raised", old_level=old, **case_fields(case))
    if level >= 4:
        await events.publish(services.redis, "alert", **case_fields(case))
    return case


@dataclass(frozen=True)
class FollowUpPlan:
    """When and how the check-in goes out, and whose list it lands on (None: the pool's)."""
    due_at: datetime
    channel: str = "cs"  # FOLLOW_UP_CHANNELS
    staff_id: int | None = None


SUMMARY_FROM_LEVEL = 2  # a case at this level or above cannot close without a summary


async def close(services: Services, case_id: int, actor_id: int | None, outcome: str, rating: int | None,
                summary: str = "", follow_up: FollowUpPlan | None = None) -> tuple[Case, list[Delivery]]:
    """Close the case; a follow-up outcome schedules the check-in (default: in two days, to the closer's
    list) and tells the resident; the resident's next message within a day goes to flows.after_close."""
    if outcome not in OUTCOMES:
        raise CaseError(f"结案结果必须是 {', '.join(OUTCOMES)} 之一")
    if rating is not None and not 0 <= rating <= 4:
        raise CaseError("风险评级必须是 0-4")
    if follow_up is not None and follow_up.channel not in FOLLOW_UP_CHANNELS:
        raise CaseError("回访方式必须是客服消息或模板消息")
    now = utcnow()
    if outcome != "follow_up":
        follow_up = None
    elif follow_up is None:
        follow_up = FollowUpPlan(now + FOLLOW_UP_AFTER, "cs", actor_id)
    async with services.db.begin() as session:
        case = await session.get(Case, case_id)
        if case is None or case.status not in OPEN:
            raise CaseError("这个个案已经结束")
        if case.level >= SUMMARY_FROM_LEVEL and outcome != "withdrawn" and not summary.strip():
            raise CaseError(f"L{case.level} 个案结案时必须填写结案小结")
        was_active = case.status == "active"
        case.status, case.closed_at, case.outcome = "closed", now, outcome
        case.counsellor_risk_rating, case.notes = rating, summary[:5000]
        case.false_alarm = outcome == "false_alarm"
        if case.counsellor_id is None:
            case.counsellor_id = actor_id
        await log_event(session, case_id, "closed", actor_id, outcome)
        if follow_up is not None:
            session.add(FollowUp(case_id=case_id, resident_id=case.resident_id, due_at=follow_up.due_at,
                                 channel=follow_up.channel, staff_id=follow_up.staff_id))
    await CaseQueue(services.redis).remove(case_id)
    await TransferOffers(services.redis).drop(case_id)
    await events.publish(services.redis, "closed", outcome=outcome, **case_fields(case))
    deliveries: list[Delivery] = []
    if was_active and outcome != "withdrawn":
        deliveries = await _tell_resident_closed(services, case, actor_id, follow_up)
    return case, deliveries


async def record_satisfaction(services: Services, case_id: int, resident_id: int, score: int) -> None:
    """The resident's 1-5 rating of a closed case (asked by flows/after_close.py), kept with the case."""
    async with services.db.begin() as session:
        await session.execute(update(Case).where(Case.id == case_id, Case.resident_id == resident_id)
                              .values(satisfaction=score))


async def _tell_resident_closed(services: Services, case: Case, actor_id: int | None,
                                follow_up: FollowUpPlan | None) -> list[Delivery]:
    ref = await resident_ref(services, case.resident_id)
    text = content.say(services.knowledge, "closed", ref.language)
    if follow_up is not None:
        text += "\n" + content.say(services.knowledge, "followup_planned", ref.language,
                                   when=localtime.fmt(follow_up.due_at))
    # the resident's next message within a day goes to the after-close flow (flows/after_close.py)
    await services.states.set(ref.openid, FlowState(AFTER_CLOSE, "closed", {"case_id": case.id}),
                              ttl=AFTER_CLOSE_SECONDS)
    return await services.messenger.send(ref, [Reply(text=text)], sender="system", author_id=actor_id)


async def add_note(services: Services, case_id: int, author_id: int, body: str) -> Note:
    if not body.strip():
        raise CaseError("备注不能为空")
    async with services.db.begin() as session:
        note = Note(case_id=case_id, author_id=author_id, body=body.strip()[:5000], created_at=utcnow())
        session.add(note)
    return note
