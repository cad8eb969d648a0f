"""What the service does with a reading: the urgent path (level 3-4), the safety check (level 2).

Level 3-4: at once a short, warm reply with the numbers to call, and a priority handoff (level 4
goes to the head of the queue and alerts the supervisor: `request_handoff` does both). Level 2:
care and the C-SSRS questions; an answer that reaches level 3 hands off at once and the rest of
the questions are asked while the resident waits, one that reaches 4 raises the case. A check
that stays at 1-2 ends with care, the resources and the offer of a counsellor. A scale's safety
item (`enter_safety_check`) asks for a counsellor first, so its check runs while the resident waits
and ends by saying the counsellor will see the answers.
"""
from __future__ import annotations

import logging
from dataclasses import replace

from bot.services import Services
from bot.transcript import ResidentRef
from bot.values import Reply
from flows.safety.check import ACTIVE, DONE, OFFERED, SafetyCheck
from flows.safety.memory import RiskMemory
from handoff.detections import raise_conversation_risk, record_detection, update_detection
from flows.safety.screener import Screener, normalise, screener
from handoff.requests import HandoffTicket, open_case, request_handoff, resident_hotline
from knowledge.crisis import Risk

log = logging.getLogger(__name__)

CRISIS_REASON = "crisis"
CHECK_REASON = "safety_check"


def action_for(level: int) -> str:
    return "supervisor_alerted" if level >= 4 else "priority_handoff"


def say(services: Services, key: str, lang: str, **values: object) -> Reply:
    return Reply(text=services.knowledge.texts.get(key, lang, **values))


async def local_hotline(services: Services, ref: ResidentRef) -> str:
    return await resident_hotline(services, ref.id)


async def hand_off(services: Services, ref: ResidentRef, lang: str, *, level: int, reason: str,
                   evidence: str, urgent: bool = True) -> tuple[list[Reply], HandoffTicket]:
    """Ask for a counsellor; at level 3-4 the resident first hears that we are here and whom to call."""
    ticket = await request_handoff(services, replace(ref, language=lang), reason=reason, level=level,
                                   evidence=evidence)
    if not urgent:
        return list(ticket.replies), ticket
    key = "safety.urgent" if ticket.on_duty else "safety.urgent_off_duty"
    hotline = await local_hotline(services, ref)
    return [say(services, key, lang, hotline=hotline), *ticket.replies], ticket


async def urgent_path(services: Services, ref: ResidentRef, lang: str, risk: Risk) -> list[Reply]:
    level = int(risk.level)
    replies, ticket = await hand_off(services, ref, lang, level=level, reason=CRISIS_REASON,
                                     evidence="、".join(risk.matched))
    await record_detection(services, ref, level=level, matched=risk.matched, reason=risk.reason,
                           action=action_for(level), case_id=ticket.case_id)
    log.info("crisis reading: priority handoff", extra={"level": level, "case_id": ticket.case_id})
    return replies


async def begin_check(services: Services, ref: ResidentRef, lang: str, *, level: int, source: str,
                      risk: Risk | None = None, ticket: HandoffTicket | None = None) -> list[Reply]:
    """Start the C-SSRS questions. `ticket` is a case already asked for at this level: the answers
    raise that case instead of opening one, and the check ends when a counsellor takes over."""
    detection_id = await record_detection(
        services, ref, level=level, matched=risk.matched if risk else (), reason=risk.reason if risk else source,
        action="safety_check", source=source, case_id=ticket.case_id if ticket else None)
    data = {"lang": lang, "level": level, "detection_id": detection_id}
    if ticket is not None:
        data.update(case_id=ticket.case_id, handed=level, counsellor_coming=ticket.on_duty)
    check = SafetyCheck(screener(), data=data)
    check.begin()
    await check.save(services.states, ref.openid)
    log.info("safety check started", extra={"level": level, "detection_id": detection_id})
    if ticket is not None and ticket.on_duty:
        intro = "safety.while_waiting_questions"
    else:
        intro = "safety.check_intro" if source == "message" else "safety.check_intro_followup"
    return [say(services, intro, lang), ask(services, check)]


def ask(services: Services, check: SafetyCheck) -> Reply:
    lang = check.data["lang"]
    return say(services, "safety.question", lang, question=check.question.text.get(lang))


async def enter_safety_check(services: Services, ref: ResidentRef, *, reason: str, level: int = 2,
                             evidence: str = "") -> list[Reply]:
    """The safety path for a reason other than a message, e.g. PHQ-9 item 9 or EPDS item 10 above zero.

    Such a reason always reaches a person (SCALES.md: acted on whatever the total): level 2 asks
    for a counsellor and starts the safety check while the resident waits, its answers raising that
    one case; 3-4 take the urgent path. With a case already open the case is raised instead and the
    counsellor takes it from there. `ref.language` is the reply language.
    """
    level = max(2, min(4, int(level)))
    evidence = evidence or reason
    memory = RiskMemory(services.redis)
    await memory.remember(ref.openid, level, await memory.level(ref.openid))
    await raise_conversation_risk(services, ref.conversation_id, level)
    case = await open_case(services, ref.id)
    if case is not None and case.fallback_at is None:
        ticket = await request_handoff(services, ref, reason=reason, level=level, evidence=evidence)
        await record_detection(services, ref, level=level, reason=reason, action="open_case", source=reason,
                               case_id=case.id)
        return list(ticket.replies)
    if level >= ACTIVE:
        replies, ticket = await hand_off(services, ref, ref.language, level=level, reason=reason, evidence=evidence)
        await record_detection(services, ref, level=level, reason=reason, action=action_for(level), source=reason,
                               case_id=ticket.case_id)
        return replies
    replies, ticket = await hand_off(services, ref, ref.language, level=level, reason=reason, evidence=evidence,
                                     urgent=False)
    await services.states.clear(ref.openid, slot="safety")
    return [*replies, *await begin_check(services, ref, ref.language, level=level, source=reason, ticket=ticket)]


# -- the check's answers ----------------------------------------------------------------------
def _words(services: Services, key: str) -> set[str]:
    local = services.knowledge.texts.local(key)
    return {normalise(w) for lang in ("zh-Hans", "zh-Hant", "en") for w in local.get(lang).split("|") if w.strip()}


def classify(services: Services, found: Screener, text: str) -> str | None:
    """counsellor / stop / yes / no / unsure, or None when the reply is none of them."""
    cleaned = normalise(text)
    if cleaned in _words(services, "safety.words.counsellor"):
        return "counsellor"
    if cleaned in _words(services, "safety.words.stop"):
        return "stop"
    return found.read(text)


def evidence_of(check: SafetyCheck) -> str:
    return "C-SSRS: " + ("、".join(check.data["yes"]) or "all no")


async def continue_check(services: Services, check: SafetyCheck, ref: ResidentRef, text: str,
                         risk: Risk, lang: str) -> list[Reply] | None:
    """The resident's reply while a check is running; None hands the message on to the next stage.
    `lang` is the turn's reply language, for a new reading's urgent reply; the check keeps its own."""
    data, lang = check.data, check.data["lang"]
    if data.get("case_id"):
        case = await open_case(services, ref.id)
        if case is None or case.status == "active":  # a counsellor has the conversation now
            await services.states.clear(ref.openid, slot="safety")
            return None
    reached = max(data["level"], data.get("handed", 0), check.level if data["yes"] else 0)
    if int(risk.level) >= ACTIVE and int(risk.level) > reached:  # a new, higher reading: at once
        await services.states.clear(ref.openid, slot="safety")
        return await urgent_path(services, ref, lang, risk)
    word = classify(services, check.screener, text)
    if check.state == OFFERED:  # a bare digit now belongs to the menu or a resumed assessment
        return await _after_offer(services, check, ref, None if normalise(text).isdigit() else word)
    if word == "counsellor":
        return await _counsellor_now(services, check, ref, reached)
    if word in ("yes", "no"):
        data["unclear"] = 0
        getattr(check, word)()
    elif word == "stop" or data["unclear"] >= 1:
        data["stopped"] = True
        check.stop()
    else:
        data["unclear"] += 1
        await check.save(services.states, ref.openid)
        return [say(services, "safety.reask", lang, question=check.question.text.get(lang))]
    replies = await _act_on_level(services, check, ref)
    await check.save(services.states, ref.openid)
    return replies


async def _act_on_level(services: Services, check: SafetyCheck, ref: ResidentRef) -> list[Reply]:
    """After an answer: hand off on reaching 3, raise the case on reaching 4, then ask on or end."""
    data, lang, level = check.data, check.data["lang"], check.level
    replies: list[Reply] = []
    fields: dict = {"screened_level": level}
    if level > data["level"]:
        await raise_conversation_risk(services, ref.conversation_id, level)
    if check.state == OFFERED and data.get("counsellor_coming"):  # nothing to offer: one is on the way
        check.close()
    if level >= ACTIVE and data.get("handed", 0) < ACTIVE:
        replies, ticket = await hand_off(services, ref, lang, level=level, reason=CHECK_REASON,
                                         evidence=evidence_of(check))
        data["case_id"], data["handed"] = ticket.case_id, level
        fields.update(action=action_for(level), case_id=ticket.case_id)
        if check.asking:
            replies.append(say(services, "safety.while_waiting_questions", lang))
    elif data.get("case_id") and level > data.get("handed", 0):
        await request_handoff(services, ref, reason=CHECK_REASON, level=level, evidence=evidence_of(check))
        data["handed"] = level
        fields.update(action=action_for(level))
        if check.state == DONE:
            replies.append(say(services, "safety.check_done_handed", lang, hotline=await local_hotline(services, ref)))
    elif check.state == DONE:
        replies.append(say(services, "safety.check_done_handed", lang, hotline=await local_hotline(services, ref)))
    await update_detection(services, data["detection_id"], **fields)
    if check.asking:
        replies.append(ask(services, check))
    elif check.state == OFFERED:
        key = "safety.stopped" if data.get("stopped") else (
            "safety.end_passive" if level >= 2 else "safety.end_low")
        replies.append(say(services, key, lang, hotline=await local_hotline(services, ref)))
        log.info("safety check ended", extra={"level": level, "stopped": bool(data.get("stopped"))})
    return replies


async def _counsellor_now(services: Services, check: SafetyCheck, ref: ResidentRef, reached: int) -> list[Reply]:
    data = check.data
    check.close()
    await check.save(services.states, ref.openid)
    replies, ticket = await hand_off(services, ref, data["lang"], level=reached, reason=CHECK_REASON,
                                     evidence=evidence_of(check), urgent=reached >= ACTIVE and not data.get("case_id"))
    action = action_for(reached) if reached >= ACTIVE else "safety_check"
    await update_detection(services, data["detection_id"], action=action, case_id=ticket.case_id)
    return replies


async def _after_offer(services: Services, check: SafetyCheck, ref: ResidentRef, word: str | None) -> list[Reply] | None:
    """The check ended with the offer of a counsellor: a yes takes it, a no is respected, anything else moves on."""
    data = check.data
    check.close()
    await check.save(services.states, ref.openid)
    if word in ("counsellor", "yes"):
        replies, ticket = await hand_off(services, ref, data["lang"], level=check.level, reason=CHECK_REASON,
                                         evidence=evidence_of(check), urgent=False)
        await update_detection(services, data["detection_id"], case_id=ticket.case_id)
        return replies
    if word in ("no", "stop"):
        return [say(services, "safety.offer_declined", data["lang"])]
    return None
