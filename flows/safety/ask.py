"""The uncertain band: ask directly and kindly, and let the answer decide.

Where the reading is neither clearly safe nor clearly a crisis, the bot does what clinicians do
(CRISIS.md): it asks "你是不是有结束生命的想法？". Yes takes the urgent path (active ideation, level 3);
no lets the conversation go on; a reply that is neither is asked once more, then a counsellor is
offered. The question lives in the resident's "safety" slot, like the safety check, and a higher
reading of anything they write meanwhile takes its own path at once.
"""
from __future__ import annotations

from bot.services import Services
from bot.stores.state import FlowState
from bot.transcript import ResidentRef
from bot.values import Reply
from flows.safety.check import SLOT
from handoff.detections import record_detection, update_detection
from flows.safety.respond import classify, local_hotline, say, urgent_path
from flows.safety.screener import screener
from knowledge.crisis import Risk, RiskLevel

FLOW = "safety_ask"
ASK_SECONDS = 30 * 60  # an unanswered question is over after this long
REASKS = 1


async def begin_ask(services: Services, ref: ResidentRef, lang: str, risk: Risk) -> list[Reply]:
    detection_id = await record_detection(services, ref, level=int(risk.level), matched=risk.matched,
                                          reason=risk.reason, action="asked")
    await services.states.set(ref.openid, FlowState(FLOW, "asked", {
        "lang": lang, "reasked": 0, "detection_id": detection_id, "matched": list(risk.matched)}),
        slot=SLOT, ttl=ASK_SECONDS)
    return [say(services, "safety.ask", lang)]


async def continue_ask(services: Services, stored: FlowState, ref: ResidentRef, text: str,
                       risk: Risk) -> list[Reply] | None:
    """The reply to the question; None hands the message on (a "no", or a request of its own)."""
    data, lang = stored.data, stored.data["lang"]
    if stored.age_seconds() > ASK_SECONDS:
        await services.states.clear(ref.openid, slot=SLOT)
        return None
    word = classify(services, screener(), text)
    if int(risk.level) >= RiskLevel.PASSIVE or word == "counsellor":  # its own reading, or a request: as usual
        await services.states.clear(ref.openid, slot=SLOT)
        return None
    if word == "yes":
        await services.states.clear(ref.openid, slot=SLOT)
        await update_detection(services, data["detection_id"], screened_level=int(RiskLevel.ACTIVE))
        confirmed = Risk(RiskLevel.ACTIVE, tuple(data.get("matched", ())), "询问后确认有结束生命的想法")
        return await urgent_path(services, ref, lang, confirmed)
    if word in ("no", "stop"):
        await services.states.clear(ref.openid, slot=SLOT)
        await update_detection(services, data["detection_id"], screened_level=int(RiskLevel.CONCERN))
        return [say(services, "safety.ask_no", lang)]
    if data["reasked"] < REASKS:
        await services.states.set(ref.openid, FlowState(FLOW, "asked", {**data, "reasked": data["reasked"] + 1}),
                                  slot=SLOT, ttl=ASK_SECONDS)
        return [say(services, "safety.ask_again", lang)]
    await services.states.clear(ref.openid, slot=SLOT)
    return [say(services, "safety.ask_offer", lang, hotline=await local_hotline(services, ref))]
