"""Asking for a counsellor: the one entry point flows (menu request, safety path, assessments) call.

    ticket = await request_handoff(services, ref, reason="crisis", level=4, evidence="安眠药、遗书")
    replies += ticket.replies

Flows use handoff through this module's `__all__` (and the crisis record, `handoff.detections`), never
through its other modules: `tests/test_imports.py` holds them to that.

A resident has at most one open case: asking again returns it (moved up if the new level is
higher). The replies tell the resident what happens next, in their language, and never leave
them without a number to call.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from bot.db import utcnow
from bot.models import Resident
from bot.services import Services
from bot.transcript import ResidentRef
from bot.values import Reply
from handoff import content, events
from handoff.cases import AFTER_CLOSE, OPEN, case_fields, log_event, open_case, raise_level, record_satisfaction, resident_ref, turn_open_case
from handoff.models import Case
from handoff.presence import Presence
from knowledge.library import Knowledge
from handoff.queue import CaseQueue
from handoff.roster import on_duty

__all__ = ["AFTER_CLOSE", "HandoffTicket", "open_case", "request_handoff", "record_satisfaction", "resident_hotline", "resident_ref",
           "turn_open_case"]

log = logging.getLogger(__name__)

PRIORITY_LEVEL = 3  # level 3 and 4 are priority handoffs (CRISIS.md)
AVERAGE_CHAT_SECONDS = 600  # a rough figure for the wait estimate, not a promise


@dataclass(frozen=True)
class HandoffTicket:
    case_id: int
    level: int
    position: int  # 1 = next; 0 = already with a counsellor
    estimated_wait_seconds: int
    on_duty: bool
    replies: list[Reply] = field(default_factory=list)


def estimate_wait(position: int, counsellors: int) -> int:
    if position <= 0:
        return 0
    return 30 + (position - 1) * AVERAGE_CHAT_SECONDS // max(1, counsellors)


async def counsellors_available(services: Services, at: datetime) -> int:
    """Counsellors on the roster now or online in the console now (someone may cover unrostered)."""
    async with services.db() as session:
        rostered = {d.staff_id for d in await on_duty(session, at, role="counsellor")}
    return len(rostered | await Presence(services.redis).online())


async def _open_or_create(services: Services, ref: ResidentRef, reason: str, level: int,
                          evidence: str) -> tuple[Case, bool]:
    async with services.db.begin() as session:
        case = await session.scalar(select(Case).where(Case.resident_id == ref.id, Case.status.in_(OPEN))
                                    .order_by(Case.id.desc()).limit(1))
        if case is not None:
            return case, False
        case = Case(resident_id=ref.id, conversation_id=ref.conversation_id, reason=reason[:64], level=level,
                    evidence=evidence[:2000], status="waiting", queued_at=utcnow())
        session.add(case)
        await session.flush()
        await log_event(session, case.id, "queued", None, f"{reason[:32]} L{level}")
    return case, True


async def request_handoff(services: Services, ref: ResidentRef, *, reason: str, level: int,
                          evidence: str = "") -> HandoffTicket:
    """Open (or find) the resident's case, queue it by risk, and say what happens next."""
    level = max(0, min(4, int(level)))
    case, created = await _open_or_create(services, ref, reason, level, evidence)
    queue = CaseQueue(services.redis)
    if not created and level > case.level:
        case = await raise_level(services, case.id, level, evidence) or case
    if case.status == "active":
        return HandoffTicket(case.id, case.level, 0, 0, True, [])
    await queue.add(case.id, case.level, case.queued_at)
    now = utcnow()
    counsellors = await counsellors_available(services, now)
    position = await queue.position(case.id) or 1
    wait = estimate_wait(position, counsellors)
    if created:
        await events.publish(services.redis, "queued", reason=case.reason, **case_fields(case))
        if case.level >= 4:
            await events.publish(services.redis, "alert", **case_fields(case))
        log.info("handoff requested", extra={"case_id": case.id, "level": case.level, "reason": case.reason,
                                             "position": position, "on_duty": bool(counsellors)})
    area = await resident_area(services, ref.id)
    if not counsellors:
        await _mark_fallen_back(services, case.id)
        return HandoffTicket(case.id, case.level, position, wait, False, off_duty_replies(services.knowledge, ref.language, area, now))
    await _remember_position(services, case.id, position)
    return HandoffTicket(case.id, case.level, position, wait, True,
                         waiting_replies(services.knowledge, ref.language, area, case.level, position, wait))


def waiting_replies(knowledge: Knowledge, lang: str, area: str, level: int, position: int, wait: int) -> list[Reply]:
    if level >= PRIORITY_LEVEL:
        first = content.say(knowledge, "finding_priority", lang)
    else:
        first = content.say(knowledge, "finding", lang, position=position,
                            wait=content.wait_text(knowledge, wait, lang))
    hotline = content.local_hotline(knowledge, area)
    return [Reply(text=first), Reply(text=content.say(knowledge, "while_waiting", lang, hotline=hotline))]


def off_duty_replies(knowledge: Knowledge, lang: str, area: str, at: datetime) -> list[Reply]:
    return [Reply(text=content.say(knowledge, "off_duty", lang, hotline=content.local_hotline(knowledge, area),
                                   station=content.station_line(knowledge, area, lang, at)))]


def fallback_replies(knowledge: Knowledge, lang: str, area: str, at: datetime) -> list[Reply]:
    return [Reply(text=content.say(knowledge, "fallback", lang, hotline=content.local_hotline(knowledge, area),
                                   station=content.station_line(knowledge, area, lang, at)))]


async def resident_area(services: Services, resident_id: int) -> str:
    async with services.db() as session:
        return await session.scalar(select(Resident.area).where(Resident.id == resident_id)) or ""


async def resident_hotline(services: Services, resident_id: int | None) -> str:
    """The resident's county line when their area is known, else the city's (None asks the database nothing)."""
    area = await resident_area(services, resident_id) if resident_id is not None else ""
    return content.local_hotline(services.knowledge, area)


async def _mark_fallen_back(services: Services, case_id: int) -> None:
    """Nobody on duty: the resident already has the numbers and the call-back offer, and the bot stays available."""
    async with services.db.begin() as session:
        case = await session.get(Case, case_id)
        if case is not None and case.fallback_at is None:
            case.fallback_at = utcnow()
            await log_event(session, case_id, "fallback", None, "nobody on duty")


async def _remember_position(services: Services, case_id: int, position: int) -> None:
    async with services.db.begin() as session:
        case = await session.get(Case, case_id)
        if case is not None:
            case.told_position = position
