"""The answer to a message that arrives while Redis is unreachable: never a 500, never silence.

Without Redis there is no de-duplication, no resident lock and no spool, so no turn can run, and a
500 would only make the platform retry three times and drop the message. Instead the message is
answered here, at once: the transcript keeps it if the database is up, the safety package (through
the app's CRISIS_WITHOUT_REDIS) reads it for a crisis and gives the emergency answer, and anything
else gets the busy text with the hotline. A platform retry runs this again: the reply is the same
and the transcript keeps the message once.
"""
from __future__ import annotations

import logging
from typing import Awaitable, Callable

from bot import metrics
from bot.language import reply_language
from bot.services import Services
from bot.transcript import ResidentRef, is_transcribed
from bot.turn import DATABASE_ERRORS, busy_reply
from bot.values import Inbound, Reply

log = logging.getLogger(__name__)

ANSWERED_EVENTS = {"subscribe", "scan", "click"}  # a resident asked for something; other events want no reply

# Reads the message for a crisis; for one, does what it can without Redis and returns the emergency
# answer in the reply language given, else None.
CrisisAnswer = Callable[[Services, Inbound, ResidentRef | None, str], Awaitable[Reply | None]]


async def answer_without_redis(services: Services, inbound: Inbound, crisis: CrisisAnswer | None) -> Reply | None:
    """The passive reply (None: answer `success`); the transcript and the case as far as the database allows."""
    ref, transcript = await _keep(services, inbound)
    lang = reply_language(inbound.text, ref)
    reply = await crisis(services, inbound, ref, lang) if crisis is not None else None
    outcome = "emergency" if reply is not None else "busy"
    if reply is None:
        if inbound.kind == "event" and inbound.event not in ANSWERED_EVENTS:
            outcome = "none"
        else:
            reply = busy_reply(services, lang)
    if ref is not None and reply is not None:
        try:
            await services.transcript.record_outbound(ref, [reply], delivery="passive")
        except DATABASE_ERRORS:
            log.warning("reply not recorded: the database is unavailable", extra={"kind": inbound.kind})
    metrics.REDIS_DOWN_ANSWERS.labels(reply=outcome, transcript=transcript).inc()
    log.warning("redis unavailable; answered without a turn",
                extra={"kind": inbound.kind, "reply": outcome, "transcript": transcript})
    return reply


async def _keep(services: Services, inbound: Inbound) -> tuple[ResidentRef | None, str]:
    """Write the message to the transcript; returns the resident and written, skipped or lost."""
    if not is_transcribed(inbound):
        return None, "skipped"
    try:
        return await services.transcript.record_inbound(inbound), "written"
    except DATABASE_ERRORS:
        log.error("message lost: redis and the database are both unavailable", extra={"kind": inbound.kind})
        return None, "lost"
