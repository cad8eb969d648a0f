"""The crisis detections record: written by the safety path, read by the console, review and the record.

It lives here, below both of its users: flows' safety path writes it, handoff's console and review
read and mark it, and neither has to import the other for it. The message itself stays in the
transcript; a detection points at the inbound row (the newest one in the conversation when it is
written, which is this turn's: the resident's lock is held) and keeps the evidence, so a counsellor
sees why it was flagged and a false-alarm marking can tune the lexicon later. The table keeps its
Alembic branch (`flows/safety/migrations`, label `safety`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (JSON, Boolean, ForeignKey, Index, Integer, String, bindparam, func, or_, select,
                        update)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow
from bot.models import BigId, Conversation, Message
from bot.services import Services
from bot.transcript import ResidentRef

# What the service did: nothing beyond noting it (level 1), asked whether they think of ending their
# life (the uncertain band), asked the safety-check questions,
# started a priority handoff (level 3), handed off and alerted the supervisor (level 4), or left
# it to the counsellor of an already open case (whose level the reading raised if higher).
ACTIONS = ("none", "asked", "safety_check", "priority_handoff", "supervisor_alerted", "open_case")


class CrisisDetection(Base):
    __tablename__ = "safety_detections"
    __table_args__ = (
        Index("ix_safety_detections_resident_time", "resident_id", "created_at"),
        Index("ix_safety_detections_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(BigId)
    message_id: Mapped[int | None] = mapped_column(BigId)  # the inbound transcript row; None for a scale item
    source: Mapped[str] = mapped_column(String(64), default="message")  # message, or e.g. assessment:PHQ-9:item9
    level: Mapped[int] = mapped_column(Integer)  # the reading, 0-4 (knowledge.crisis.RiskLevel)
    screened_level: Mapped[int | None] = mapped_column(Integer)  # where the safety-check answers left it
    matched: Mapped[list] = mapped_column(JSON, default=list)  # the detector's evidence
    reason: Mapped[str] = mapped_column(String(255), default="")
    action: Mapped[str] = mapped_column(String(32), default="none")  # one of ACTIONS
    case_id: Mapped[int | None] = mapped_column(BigId)  # the handoff case, when there is one
    false_alarm: Mapped[bool] = mapped_column(Boolean, default=False)
    marked_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


_conversations = Conversation.__table__
# Built once, like the transcript's statements: it may run on a turn's hot path.
_RAISE_MAX_RISK = (update(_conversations)
                   .where(_conversations.c.id == bindparam("conversation_id"),
                          _conversations.c.max_risk < bindparam("level"))
                   .values(max_risk=bindparam("level")))


@dataclass(frozen=True)
class Detection:
    id: int
    created_at: datetime
    source: str  # "message", or where a scale item came from (assessment:PHQ-9:item9)
    level: int
    screened_level: int | None
    matched: tuple[str, ...]
    reason: str
    action: str
    case_id: int | None
    conversation_id: int
    message_id: int | None
    text: str  # the message as the transcript holds it ("" for a scale item)
    false_alarm: bool
    marked_by: int | None
    marked_at: datetime | None


async def record_detection(services: Services, ref: ResidentRef, *, level: int, matched: tuple[str, ...] = (),
                           reason: str = "", action: str = "none", source: str = "message",
                           case_id: int | None = None) -> int:
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    async with services.db.begin() as session:
        message_id = None
        if source == "message":
            message_id = await session.scalar(select(func.max(Message.id)).where(
                Message.conversation_id == ref.conversation_id, Message.direction == "in"))
        row = CrisisDetection(resident_id=ref.id, conversation_id=ref.conversation_id, message_id=message_id,
                              source=source[:64], level=int(level), matched=list(matched), reason=reason[:255],
                              action=action, case_id=case_id, false_alarm=False, created_at=utcnow())
        session.add(row)
        await session.flush()
        return row.id


async def raise_conversation_risk(services: Services, conversation_id: int, level: int) -> None:
    """Keep the highest risk a conversation reached, for review: one statement that never lowers it.

    Level 0 sends nothing, so an ordinary turn pays nothing for it."""
    if level <= 0 or not conversation_id:
        return
    async with services.autocommit() as session:
        await session.execute(_RAISE_MAX_RISK, {"conversation_id": conversation_id, "level": int(level)})


async def update_detection(services: Services, detection_id: int, **values: object) -> None:
    """What a safety check found later: the screened level, a handoff it led to."""
    if values.get("action", "none") not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    async with services.db.begin() as session:
        await session.execute(update(CrisisDetection).where(CrisisDetection.id == detection_id).values(**values))


async def detections_for(services: Services, resident_id: int, *, min_level: int = 0,
                         limit: int = 200) -> list[Detection]:
    """A resident's detections, newest first, with the message each one read."""
    query = (select(CrisisDetection, Message.content)
             .outerjoin(Message, Message.id == CrisisDetection.message_id)
             .where(CrisisDetection.resident_id == resident_id, CrisisDetection.level >= min_level)
             .order_by(CrisisDetection.created_at.desc(), CrisisDetection.id.desc()).limit(limit))
    async with services.db() as session:
        rows = (await session.execute(query)).all()
    return [_value(row, text or "") for row, text in rows]


async def mark_false_alarm(services: Services, *, staff_id: int, detection_id: int | None = None,
                           case_id: int | None = None, false_alarm: bool = True) -> int:
    """Mark one detection, or every detection of a case, as a false alarm (kept for tuning); returns how many."""
    if detection_id is None and case_id is None:
        raise ValueError("give a detection_id or a case_id")
    conditions = []
    if detection_id is not None:
        conditions.append(CrisisDetection.id == detection_id)
    if case_id is not None:
        conditions.append(CrisisDetection.case_id == case_id)
    async with services.db.begin() as session:
        done = await session.execute(update(CrisisDetection).where(or_(*conditions)).values(
            false_alarm=false_alarm, marked_by=staff_id, marked_at=utcnow()))
    return done.rowcount


MISSED = "staff:missed"  # the source of a detection a staff member added: the bot read too low
MISSED_LEVELS = (2, 3, 4)


class NotAResidentMessage(ValueError):
    """Only what a resident wrote can be marked as a message the bot missed."""


async def mark_missed(services: Services, *, staff_id: int, message_id: int, level: int) -> int:
    """Record that the bot read a resident's message too low, at the level a counsellor gives it:
    a detection of source `staff:missed`, exported with `xinzhan crisis-export-labels` so a city can
    retrain on its own residents' wording. Marking it again changes the level; returns the row's id."""
    if level not in MISSED_LEVELS:
        raise ValueError(f"level must be one of {MISSED_LEVELS}")
    async with services.db.begin() as session:
        message = await session.get(Message, message_id)
        if message is None or message.direction != "in" or message.sender != "resident":
            raise NotAResidentMessage(f"message {message_id} is not one a resident wrote")
        row = await session.scalar(select(CrisisDetection).where(
            CrisisDetection.message_id == message_id, CrisisDetection.source == MISSED))
        if row is None:
            row = CrisisDetection(resident_id=message.resident_id, conversation_id=message.conversation_id,
                                  message_id=message_id, source=MISSED, matched=[], action="none",
                                  reason="工作人员标注：机器人漏判", false_alarm=False, created_at=utcnow())
            session.add(row)
        row.level, row.marked_by, row.marked_at = int(level), staff_id, utcnow()
        await session.flush()
        return row.id


def _value(row: CrisisDetection, text: str) -> Detection:
    return Detection(row.id, row.created_at, row.source, row.level, row.screened_level, tuple(row.matched or ()),
                     row.reason, row.action, row.case_id, row.conversation_id, row.message_id, text,
                     row.false_alarm, row.marked_by, row.marked_at)
