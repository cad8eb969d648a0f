"""A scale's safety item above zero (PHQ-9 item 9, EPDS item 10): one case, by chat or on paper.

SCALES.md: such an answer is acted on whatever the total, so it always reaches a person: a
level-2 case (CRISIS.md: passive ideation until screened) whose reason names the scale and item.
In the chat the resident also gets the C-SSRS check while they wait; a questionnaire entered from
paper opens the case only, since the resident is not in the chat to answer.
"""
from __future__ import annotations

from bot.services import Services
from bot.transcript import ResidentRef
from bot.values import Reply
from flows.safety.respond import enter_safety_check
from handoff.requests import request_handoff, resident_ref
from knowledge.scales import Scale

LEVEL = 2


def reason_for(scale: Scale) -> str:
    return f"assessment:{scale.id}:{scale.safety_item.flag}"


def evidence_for(scale: Scale, answers: list[int]) -> str:
    """The item's score, not the option typed: EPDS items are keyed, so its first option scores 3."""
    number = scale.safety_item.item
    return f"{scale.id} item {number} = {scale.items[number - 1].score(answers[number - 1])}"


async def safety_item_in_chat(services: Services, ref: ResidentRef, scale: Scale, answers: list[int]) -> list[Reply]:
    """The case and the safety check's first question, in `ref.language`."""
    return await enter_safety_check(services, ref, reason=reason_for(scale), level=LEVEL,
                                    evidence=evidence_for(scale, answers))


async def safety_item_on_paper(services: Services, resident_id: int, scale: Scale, answers: list[int]) -> int:
    """The id of the resident's case: opened, or the open one raised to this level.

    Taken under the resident's lock, as a chat turn opens its cases, so the two never open two."""
    ref = await resident_ref(services, resident_id)
    async with services.locks.hold(ref.openid):
        ticket = await request_handoff(services, ref, reason=reason_for(scale), level=LEVEL,
                                       evidence=evidence_for(scale, answers) + " (paper)")
    return ticket.case_id
