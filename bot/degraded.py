"""The answer to a message that arrives while Redis is unreachable: never a 500, never silence.

Without Redis there is no de-duplication, no resident lock and no spool, so no turn can run, and a
500 would only make the platform retry three times and drop the message. Instead the message is
answered here, at once: the crisis detector reads it in-process, the transcript keeps it if the
database is up, and a reading of level 3-4 opens the priority case in the database (handoff writes
a case there before it touches the queue, and `handoff.recovery` queues it once Redis is back).
A platform retry runs this again: the reply is the same and the transcript keeps the message once.
"""
from __future__ import annotations

import logging

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot import metrics
from bot.services import Services
from bot.transcript import ResidentRef, is_transcribed
from bot.turn import DATABASE_ERRORS, busy_reply
from bot.values import Inbound, Reply
from flows.safety.respond import CRISIS_REASON
from handoff.cases import open_case
from handoff.content import local_hotline
from handoff.requests import PRIORITY_LEVEL, request_handoff, resident_area
from knowledge.crisis import Detector, Risk
from knowledge.texts import detect_language

log = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
SCANNED = ("text", "voice")  # as the safety stage: voice carries the platform's Recognition text
ANSWERED_EVENTS = {"subscribe", "scan", "click"}  # a resident asked for something; other events want no reply
# The safety stage's level 3-4 text for when no counsellor can be connected now, which is the truth
# while the queue is down: it says to call now, and promises no chat.
EMERGENCY_TEXT = "safety.urgent_off_duty"


async def answer_without_redis(services: Services, inbound: Inbound, detector: Detector | None) -> Reply | None:
    """The passive reply (None: answer `success`); the transcript and the case as far as the database allows."""
    risk = _reading(detector, inbound)
    level = int(risk.level) if risk is not None else 0
    ref, transcript = await _keep(services, inbound)
    if ref is not None and level >= PRIORITY_LEVEL:
        await _open_priority_case(services, ref, risk)
    elif level >= PRIORITY_LEVEL:
        log.error("crisis case not opened: the database is unavailable too", extra={"level": level})
    reply = await _reply(services, inbound, ref, level)
    if ref is not None and reply is not None:
        try:
            await services.transcript.record_outbound(ref, [reply], delivery="passive")
        except DATABASE_ERRORS:
            log.warning("reply not recorded: the database is unavailable", extra={"kind": inbound.kind})
    outcome = "none" if reply is None else "emergency" if level >= PRIORITY_LEVEL else "busy"
    metrics.REDIS_DOWN_ANSWERS.labels(reply=outcome, transcript=transcript).inc()
    log.warning("redis unavailable; answered without a turn",
                extra={"kind": inbound.kind, "level": level, "reply": outcome, "transcript": transcript})
    return reply


def _reading(detector: Detector | None, inbound: Inbound) -> Risk | None:
    """The message read on its own: the risk remembered from earlier messages lives in Redis."""
    if detector is None or inbound.kind not in SCANNED or not inbound.text.strip():
        return None
    return metrics.measured_detection(detector.scan, inbound.text, 0)


async def _keep(services: Services, inbound: Inbound) -> tuple[ResidentRef | None, str]:
    """Write the message to the transcript; returns the resident and written, skipped or lost."""
    if not is_transcribed(inbound):
        return None, "skipped"
    try:
        return await services.transcript.record_inbound(inbound), "written"
    except DATABASE_ERRORS:
        log.error("message lost: redis and the database are both unavailable", extra={"kind": inbound.kind})
        return None, "lost"


async def _open_priority_case(services: Services, ref: ResidentRef, risk: Risk) -> None:
    """Ask for the handoff the normal way; its queue step fails without Redis, after the case is written."""
    level, evidence = int(risk.level), "、".join(risk.matched)
    try:
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


async def _reply(services: Services, inbound: Inbound, ref: ResidentRef | None, level: int) -> Reply | None:
    if inbound.kind == "event" and inbound.event not in ANSWERED_EVENTS:
        return None
    if level < PRIORITY_LEVEL:
        return busy_reply(services, inbound)
    lang = detect_language(inbound.text) or "zh-Hans"
    return Reply(text=services.texts.get(EMERGENCY_TEXT, lang, hotline=await _hotline(services, ref)))


async def _hotline(services: Services, ref: ResidentRef | None) -> str:
    """The resident's county line when the database knows their area, else the city's."""
    area = ""
    if ref is not None:
        try:
            area = await resident_area(services, ref.id)
        except DATABASE_ERRORS:
            pass
    return local_hotline(area)
