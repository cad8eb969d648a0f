"""Retention: transcripts older than their period are deleted or anonymised by a scheduled job.

    report = await apply_retention(services, now)

Periods come from the configuration (`bot.config`, checked at start):
- XZ_RETENTION_CASE_DAYS  conversations that had a handoff case (default 1095, three years)
- XZ_RETENTION_BOT_DAYS   bot-only conversations (default 365)
- XZ_RETENTION_MODE       `delete` (messages and conversation go) or `anonymise` (message rows stay
                          for statistics, their content is emptied); default delete
A conversation is old when its last message is. Its cases keep their numbers (level, outcome,
times) but lose their free text (summary, evidence, notes). Held conversations are kept: a case
still open, under a retention hold (review_holds, until released) or closed as follow-up with a
check-in not yet sent.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, select, update

from bot.config import RetentionPolicy
from bot.models import Conversation, Message
from bot.services import Services
from handoff.detections import CrisisDetection
from handoff.models import Case, FollowUp, Note
from handoff.review import audit
from handoff.review.models import RetentionHold

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class RetentionReport:
    conversations_deleted: int = 0
    conversations_anonymised: int = 0
    messages_deleted: int = 0
    messages_anonymised: int = 0
    cases_scrubbed: int = 0
    conversations_held: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _has_case(conv):
    return exists().where(Case.conversation_id == conv)


def _held(conv):
    """Cases that keep their conversation: open, held and not released, or awaiting a follow-up."""
    return exists().where(Case.conversation_id == conv, (
        (Case.status != "closed")
        | exists().where(RetentionHold.case_id == Case.id, RetentionHold.released_at.is_(None))
        | exists().where(FollowUp.case_id == Case.id, FollowUp.sent_at.is_(None))))


def _expired(policy: RetentionPolicy, now: datetime):
    conv = Conversation.id
    case_cut, bot_cut = now - timedelta(days=policy.case_days), now - timedelta(days=policy.bot_days)
    return ((_has_case(conv) & (Conversation.last_at < case_cut))
            | (~_has_case(conv) & (Conversation.last_at < bot_cut)))


async def apply_retention(services: Services, now: datetime, policy: RetentionPolicy | None = None) -> RetentionReport:
    """Delete or anonymise every expired conversation not held; return what was done."""
    policy = policy or services.config.retention
    report = RetentionReport()
    async with services.db() as session:
        report.conversations_held = await session.scalar(
            select(func.count()).select_from(Conversation).where(_expired(policy, now), _held(Conversation.id)))
    done: set[int] = set()
    while True:
        async with services.db.begin() as session:
            query = select(Conversation.id).where(_expired(policy, now), ~_held(Conversation.id))
            if policy.mode == "anonymise":  # anonymised rows stay, so skip those already done
                query = query.where(exists().where(Message.conversation_id == Conversation.id, Message.content != ""))
            ids = [i for i in await session.scalars(query.order_by(Conversation.id).limit(BATCH)) if i not in done]
            if not ids:
                break
            done.update(ids)
            await _forget(session, ids, policy.mode, report)
    if report.conversations_deleted or report.conversations_anonymised:
        await audit.record(services.db, None, None, "delete" if policy.mode == "delete" else "anonymise",
                           "retention", now.date().isoformat(), _summary(policy, report))
    log.info("retention applied", extra={"retention": report.as_dict(), "mode": policy.mode})
    return report


def _summary(policy: RetentionPolicy, report: RetentionReport) -> str:
    counts = " ".join(f"{k}={v}" for k, v in report.as_dict().items())
    return f"case_days={policy.case_days} bot_days={policy.bot_days} {counts}"


async def _forget(session, ids: list[int], mode: str, report: RetentionReport) -> None:
    case_ids = list(await session.scalars(select(Case.id).where(Case.conversation_id.in_(ids))))
    if case_ids:
        await session.execute(delete(Note).where(Note.case_id.in_(case_ids)))
        result = await session.execute(update(Case).where(Case.id.in_(case_ids)).values(notes="", evidence=""))
        report.cases_scrubbed += result.rowcount
    await session.execute(update(CrisisDetection).where(CrisisDetection.conversation_id.in_(ids)).values(matched=[]))
    if mode == "delete":
        result = await session.execute(delete(Message).where(Message.conversation_id.in_(ids)))
        report.messages_deleted += result.rowcount
        await session.execute(delete(Conversation).where(Conversation.id.in_(ids)))
        report.conversations_deleted += len(ids)
    else:
        result = await session.execute(update(Message).where(and_(Message.conversation_id.in_(ids),
                                                                  Message.content != "")).values(content=""))
        report.messages_anonymised += result.rowcount
        report.conversations_anonymised += len(ids)
