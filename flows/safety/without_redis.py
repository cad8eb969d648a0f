"""The safety stage's part of the answer to a message that arrives while Redis is unreachable.

`bot.degraded` keeps the message and answers it; this reads it for a crisis first. The risk
remembered from earlier messages lives in Redis, so the message is read on its own. A reading of
level 3-4 opens the priority case in the database (handoff writes a case there before it touches the
queue, and `handoff.recovery` queues it once Redis is back) and answers with the emergency numbers.
"""
from __future__ import annotations

import asyncio
import logging

from bot import metrics
from bot.degraded import CrisisAnswer
from bot.redis_conn import PATIENCE, REDIS_DOWN
from bot.services import Services
from bot.transcript import ResidentRef
from bot.turn import DATABASE_ERRORS
from bot.values import Inbound, Reply
from flows.safety.respond import CRISIS_REASON
from handoff.requests import open_case, request_handoff, resident_hotline
from knowledge.crisis import Detector, Risk, RiskLevel

log = logging.getLogger(__name__)

SCANNED = ("text", "voice")  # as the safety stage: voice carries the platform's Recognition text
# The safety stage's level 3-4 text for when no counsellor can be connected now, which is the truth
# while the queue is down: it says to call now, and promises no chat.
EMERGENCY_TEXT = "safety.urgent_off_duty"


def crisis_answer(detector: Detector) -> CrisisAnswer:
    async def answer(services: Services, inbound: Inbound, ref: ResidentRef | None, lang: str) -> Reply | None:
        risk = _reading(detector, inbound)
        if risk is None or int(risk.level) < RiskLevel.ACTIVE:
            return None
        if ref is None:
            log.error("crisis case not opened: the database is unavailable too", extra={"level": int(risk.level)})
        else:
            await _open_priority_case(services, ref, risk)
        return Reply(text=services.knowledge.texts.get(EMERGENCY_TEXT, lang, hotline=await _hotline(services, ref)))
    return answer


def _reading(detector: Detector, inbound: Inbound) -> Risk | None:
    if inbound.kind not in SCANNED or not inbound.text.strip():
        return None
    return metrics.measured_detection(detector.scan, inbound.text, 0)


async def _open_priority_case(services: Services, ref: ResidentRef, risk: Risk) -> None:
    """Ask for the handoff the normal way; its queue step fails without Redis, after the case is written."""
    level, evidence = int(risk.level), "、".join(risk.matched)
    try:
        async with asyncio.timeout(PATIENCE):  # the case is in the database before the queue is tried
            ticket = await request_handoff(services, ref, reason=CRISIS_REASON, level=level, evidence=evidence)
        log.info("crisis handoff requested; redis answered", extra={"case_id": ticket.case_id, "level": level})
        return
    except (*REDIS_DOWN, *DATABASE_ERRORS):
        pass
    try:
        case = await open_case(services, ref.id)
    except DATABASE_ERRORS:
        case = None
    if case is None:
        log.error("crisis case not opened: the database refused it", extra={"level": level})
    else:
        log.warning("crisis case kept in the database; queued when redis is back",
                    extra={"case_id": case.id, "level": case.level})


async def _hotline(services: Services, ref: ResidentRef | None) -> str:
    """The resident's county line when the database knows their area, else the city's."""
    if ref is not None:
        try:
            return await resident_hotline(services, ref.id)
        except DATABASE_ERRORS:
            pass
    return await resident_hotline(services, None)
