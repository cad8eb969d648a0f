"""The turn stage at ORDER_HANDOFF: while a case is open the resident talks to a person, not the bot.

An active case: every message goes to the counsellor's console and the bot stays silent. A
waiting case: messages show in the queue, the bot stays silent (the resident was told what
happens), except for a call-back request or leaving the queue; once the wait fell back (nobody
on duty, or too long) the bot answers again while the case keeps its place.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from bot import localtime
from bot.db import utcnow
from bot.pipeline import Turn
from bot.services import Services
from bot.transcript import describe
from bot.values import Reply
from handoff import cases, content, events
from handoff.models import Callback
from knowledge.texts import Texts

PHONE = re.compile(r"\+?\d[\d\- ]{5,18}\d")


def make_stage(services: Services):
    services.transcript.read_with_resident(cases.OPEN_CASE, cases.open_case_id())  # asked on every turn
    keywords = Keywords(services.knowledge.texts)  # compiled at start: a bad keyword list stops it there

    async def handoff_stage(turn: Turn) -> list[Reply] | None:
        if not turn.resident.id:
            return None
        case = await cases.turn_open_case(services, turn.resident)
        if case is None:
            return None
        risk = turn.notes.get("risk")
        if risk is not None and int(risk.level) > case.level:
            case = await cases.raise_level(services, case.id, int(risk.level), "、".join(risk.matched)) or case
        kind, text = describe(turn.inbound)
        await events.publish(services.redis, "message", message={
            "sender": "resident", "kind": kind, "content": text, "at": localtime.iso(utcnow())},
            **cases.case_fields(case))
        if case.status == "active":
            return []
        return await _while_waiting(services, keywords, turn, case)
    return handoff_stage


class Keywords:
    """The words a waiting resident uses to leave a number or leave the queue, compiled once."""

    def __init__(self, texts: Texts) -> None:
        self.callback = content.keyword_pattern(texts, "callback")
        self.cancel = content.keyword_pattern(texts, "cancel")

    def is_cancel(self, text: str) -> bool:
        """Only a short message that is just the word: "取消" leaves the queue, "我想取消预约的活动…" does not."""
        match = self.cancel.match(text)
        return bool(match) and len(text.strip()) <= len(match.group(0).strip()) + 2


async def _while_waiting(services: Services, keywords: Keywords, turn: Turn, case) -> list[Reply] | None:
    lang, text, knowledge = turn.resident.language, turn.inbound.text, services.knowledge
    if text and keywords.callback.match(text):
        phone = PHONE.search(text)
        if phone is None:
            return [Reply(text=content.say(knowledge, "callback_need_phone", lang))]
        await save_callback(services, case, phone.group(0), text)
        return [Reply(text=content.say(knowledge, "callback_saved", lang, phone=phone.group(0)))]
    if text and keywords.is_cancel(text):
        await cases.close(services, case.id, None, "withdrawn", None, "resident left the queue")
        return [Reply(text=content.say(knowledge, "cancelled", lang))]
    return None if case.fallback_at is not None else []


async def save_callback(services: Services, case, phone: str, message: str) -> None:
    async with services.db.begin() as session:
        existing = await session.scalar(select(Callback).where(Callback.resident_id == case.resident_id,
                                                               Callback.status == "open"))
        if existing is not None:
            existing.phone, existing.message = phone[:32], message[:2000]
        else:
            session.add(Callback(resident_id=case.resident_id, case_id=case.id, phone=phone[:32],
                                 message=message[:2000], created_at=utcnow()))
    await events.publish(services.redis, "callback", **cases.case_fields(case))
