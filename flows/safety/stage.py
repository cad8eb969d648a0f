"""The turn stage at ORDER_SAFETY: every text and voice transcription is read for risk first.

The reading goes into `turn.notes["risk"]` for later stages (the handoff stage raises an open
case with it), and one above 0 raises the conversation's `max_risk` for review. With a case open
the counsellor has the conversation, so the stage only records the reading and lets the handoff
stage relay it; otherwise level 3-4 takes the urgent path, level 2 starts the safety check, the
uncertain band (level 1 marked `ask`) asks the resident directly, and a running check or question
gets the resident's answers before the router. The resident's last few messages are read together
with this one, so risk spread over several short messages is seen.
"""
from __future__ import annotations

import logging

from bot import metrics
from bot.pipeline import Turn
from bot.services import Services
from bot.values import Reply
from flows.safety.ask import FLOW as ASK_FLOW
from flows.safety.ask import begin_ask, continue_ask
from flows.safety.check import SLOT, load_check
from flows.safety.memory import RiskMemory
from flows.safety.recent import RecentMessages
from handoff.detections import raise_conversation_risk, record_detection
from flows.safety.respond import begin_check, continue_check, urgent_path
from flows.safety.screener import Screener
from handoff.requests import turn_open_case
from knowledge.crisis import Detector, Risk

log = logging.getLogger(__name__)

SCANNED = ("text", "voice")  # voice carries the platform's Recognition text
CHECK_LEVEL = 2  # a safety check starts at this level, and the memory keeps it while the check runs
ASK_LEVEL = 1  # the uncertain band's question is asked at level 1, and the memory keeps that
FLOW_ANSWER_SECONDS = 30 * 60  # a flow's question this recent is what the resident is answering


def make_stage(services: Services, detector: Detector, screener: Screener):
    memory = RiskMemory(services.redis)
    recent_messages = RecentMessages(services.redis)

    async def safety_stage(turn: Turn) -> list[Reply] | None:
        inbound, ref = turn.inbound, turn.resident
        if inbound.kind not in SCANNED or not inbound.text.strip():
            return None
        known = await memory.level(inbound.openid)
        recent = await recent_messages.exchange(inbound.openid, inbound.text)
        risk = metrics.measured_detection(detector.scan, inbound.text, known, recent)
        turn.notes["risk"] = risk
        await memory.remember(inbound.openid, int(risk.level), known)
        if not ref.id:
            return None
        await raise_conversation_risk(services, ref.conversation_id, int(risk.level))
        if known >= ASK_LEVEL:  # a question or check only runs while its risk is remembered
            replies = await _continue(services, screener, memory, turn, risk, known)
            if replies is not None:
                return replies
        return await respond(services, turn, risk)

    return safety_stage


async def _continue(services: Services, screener: Screener, memory: RiskMemory, turn: Turn, risk: Risk,
                    known: int) -> list[Reply] | None:
    """The resident's answer to a question the safety path asked them, if one is waiting."""
    inbound, ref = turn.inbound, turn.resident
    stored = await services.states.get(inbound.openid, slot=SLOT)
    if stored is not None and stored.flow == ASK_FLOW:
        return await continue_ask(services, stored, ref, inbound.text, risk)
    if known >= CHECK_LEVEL:
        check = await load_check(services.states, screener, inbound.openid)
        if check is not None:
            replies = await continue_check(services, check, ref, inbound.text, risk, turn.language)
            await memory.remember(inbound.openid, max(known, int(risk.level)), known)  # keep it alive
            return replies
    return None



async def _may_ask(services: Services, turn: Turn) -> bool:
    """Not while a counsellor has the conversation, nor inside a flow: there the message answers the
    flow's question ("好几天" to a scale item), and a question of ours would break into it."""
    current = await services.states.get(turn.inbound.openid)
    if current is not None and current.age_seconds() < FLOW_ANSWER_SECONDS:
        return False
    return await turn_open_case(services, turn.resident) is None


async def respond(services: Services, turn: Turn, risk: Risk) -> list[Reply] | None:
    ref, level = turn.resident, int(risk.level)
    if level == 0:
        return None
    if level == 1 and risk.ask and await _may_ask(services, turn):  # uncertain: ask, don't guess
        return await begin_ask(services, ref, turn.language, risk)
    if level == 1:  # concern: no response of its own, but the record shows the way things went
        await record_detection(services, ref, level=level, matched=risk.matched, reason=risk.reason)
        return None
    case = await turn_open_case(services, ref)
    if case is not None and case.fallback_at is None:
        await record_detection(services, ref, level=level, matched=risk.matched, reason=risk.reason,
                               action="open_case", case_id=case.id)
        log.info("crisis reading during an open case", extra={"level": level, "case_id": case.id})
        return None
    lang = turn.language
    if level >= 3:
        return await urgent_path(services, ref, lang, risk)
    return await begin_check(services, ref, lang, level=level, source="message", risk=risk)
