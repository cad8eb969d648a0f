"""Cases and everything around them: the record the Redis queue is rebuilt from.

The database is the truth about who waits, who talks to whom and how it ended; Redis only holds
the order and the claims so that "take next" is atomic across workers.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow
from bot.models import BigId

STATUSES = ("waiting", "active", "closed")
OUTCOMES = ("resolved", "referred", "emergency_services", "follow_up", "false_alarm", "withdrawn")
EVENT_KINDS = ("queued", "raised", "claimed", "transferred", "requeued", "escalated", "fallback", "closed",
               "transfer_offered", "transfer_refused", "transfer_expired", "whispered", "taken_over", "reassigned")


class Case(Base):
    """One handoff of a resident to a counsellor, from the request to its close."""

    __tablename__ = "handoff_cases"
    __table_args__ = (
        Index("ix_handoff_cases_status", "status"),
        Index("ix_handoff_cases_resident_status", "resident_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(BigId)  # where the conversation stood when it was asked
    reason: Mapped[str] = mapped_column(String(64))  # e.g. request, crisis, assessment
    level: Mapped[int] = mapped_column(Integer, default=0)  # 0-4, knowledge.crisis.levels.RiskLevel
    evidence: Mapped[str] = mapped_column(Text, default="")  # the detector's matched words, for highlighting
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)  # keeps its place
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fallback_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(32), default="")
    counsellor_risk_rating: Mapped[int | None] = mapped_column(Integer)
    false_alarm: Mapped[bool] = mapped_column(Boolean, default=False)  # kept for tuning the detector
    told_position: Mapped[int] = mapped_column(Integer, default=0)  # last place in queue the resident heard
    notes: Mapped[str] = mapped_column(Text, default="")  # the closing summary
    satisfaction: Mapped[int | None] = mapped_column(Integer)  # the resident's 1-5 answer after the close


class CaseEvent(Base):
    """The case's timeline: who did what, when."""

    __tablename__ = "handoff_case_events"
    __table_args__ = (Index("ix_handoff_case_events_case", "case_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("handoff_cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    detail: Mapped[str] = mapped_column(String(255), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Note(Base):
    """A counsellor's private note on a case; never sent to the resident."""

    __tablename__ = "handoff_notes"
    __table_args__ = (Index("ix_handoff_notes_case", "case_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("handoff_cases.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Callback(Base):
    """A resident's request to be called back, left when nobody could take the chat; the next shift sees it first."""

    __tablename__ = "handoff_callbacks"
    __table_args__ = (Index("ix_handoff_callbacks_status", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("handoff_cases.id", ondelete="SET NULL"))
    phone: Mapped[str] = mapped_column(String(32), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open / done
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))


class Shift(Base):
    """A weekly duty pattern: this person is on duty every `weekday` from `starts` to `ends` (local time)."""

    __tablename__ = "handoff_shifts"
    __table_args__ = (Index("ix_handoff_shifts_weekday", "weekday"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)  # Monday = 0
    starts: Mapped[str] = mapped_column(String(5))  # "HH:MM", Asia/Shanghai
    ends: Mapped[str] = mapped_column(String(5))  # "HH:MM"; "24:00" = midnight
    role: Mapped[str] = mapped_column(String(16), default="counsellor")  # counsellor / supervisor


class ShiftChange(Base):
    """A one-off change to the pattern: extra duty (`on`) or time off (`off`) between two instants."""

    __tablename__ = "handoff_shift_changes"
    __table_args__ = (Index("ix_handoff_shift_changes_ends", "ends_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # on / off
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    role: Mapped[str] = mapped_column(String(16), default="counsellor")
    note: Mapped[str] = mapped_column(String(255), default="")


FOLLOW_UP_CHANNELS = ("cs", "template")  # customer-service message (48-hour window) or template message


class FollowUp(Base):
    """A check-in due after a case closed as follow-up needed: the scheduler sends it (scheduler.followups)
    and it becomes a task on its counsellor's list, or the pool's when `staff_id` is empty, until done."""

    __tablename__ = "handoff_followups"
    __table_args__ = (Index("ix_handoff_followups_due", "sent_at", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("handoff_cases.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str] = mapped_column(String(255), default="")
    channel: Mapped[str] = mapped_column(String(16), default="cs")  # FOLLOW_UP_CHANNELS
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the task, once followed up
    done_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))


class CannedResponse(Base):
    """A reply counsellors insert with `/shortcut`; supervisors edit them in the console. Until the first
    edit the list is the defaults in knowledge/data/texts/handoff.yaml (handoff.canned_*)."""

    __tablename__ = "handoff_canned_responses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(32), unique=True)
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
