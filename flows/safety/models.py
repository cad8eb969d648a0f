"""The detections record: every crisis reading of note and what the service did about it.

The message text itself stays in the transcript; a detection points at it and keeps the evidence,
so a counsellor sees why it was flagged and a false-alarm marking can tune the lexicon later.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, utcnow
from bot.models import BigId

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
    marked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
