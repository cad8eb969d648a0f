"""Review's own records: the audit trail, quality reviews, retention holds and data-subject requests.

The search indexes on the core's `messages` table are declared here too: they exist for review's
searches, so review owns them (the bigram one only on PostgreSQL, see search.py).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow
from bot.models import BigId, Message
from handoff.models import Case

# "label": a staff member marked a message for the crisis corpus (a miss the bot made);
# "whisper", "take_over", "reassign": a supervisor stepped into a live case (handoff.api_stepin)
ACTIONS = ("view", "search", "export", "print", "delete", "anonymise", "request", "quality", "hold", "release",
           "label", "whisper", "take_over", "reassign")

# Date-range searches walk messages newest first; the core has no index on the time alone.
Index("ix_review_messages_time", Message.created_at, Message.id)
# Words in Chinese text: a GIN index over each message's character bigrams (PostgreSQL only; the
# function is created by the migration).
Index("ix_review_messages_bigrams", func.review_bigrams(Message.content),
      postgresql_using="gin").ddl_if(dialect="postgresql")
# Access is decided from the cases of each message's conversation (access.py), once per row searched.
Index("ix_review_cases_conversation", Case.conversation_id, Case.id)


class AuditEntry(Base):
    """One look at (or change to) transcript content. Append-only: no code path edits or deletes it.

    `staff_id` is not a foreign key on purpose: the trail outlives staff accounts; `staff_name`
    keeps who it was. `summary` describes the query, never message content."""

    __tablename__ = "review_audit"
    __table_args__ = (
        Index("ix_review_audit_time", "created_at"),
        Index("ix_review_audit_staff_time", "staff_id", "created_at"),
        Index("ix_review_audit_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(BigId)
    staff_name: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(16))  # one of ACTIONS
    target_type: Mapped[str] = mapped_column(String(32))  # conversation, search, resident, request, case, retention
    target_id: Mapped[str] = mapped_column(String(64), default="")
    summary: Mapped[str] = mapped_column(String(500), default="")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class QualityReview(Base):
    """A reviewer's scoring of a closed case against the checklist (knowledge/data/review/checklist.yaml)."""

    __tablename__ = "review_quality"
    __table_args__ = (Index("ix_review_quality_case", "case_id"), Index("ix_review_quality_counsellor", "counsellor_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("handoff_cases.id", ondelete="CASCADE"))
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    scores: Mapped[dict] = mapped_column(JSON, default=dict)  # checklist key -> "yes" / "no" / "n/a"
    score: Mapped[int] = mapped_column(Integer, default=0)  # percent of applicable items met
    comments: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RetentionHold(Base):
    """A case kept out of the retention job (under review, legal hold…) until someone releases it."""

    __tablename__ = "review_holds"
    __table_args__ = (Index("ix_review_holds_case", "case_id", "released_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("handoff_cases.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(255), default="")
    held_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    held_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    released_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DataRequest(Base):
    """A resident's request for their data (export) or for its deletion, decided by a supervisor.

    The row outlives the resident it concerns (resident_id goes NULL on deletion); `subject` is a
    hash of the openid so the record proves the request was honoured without keeping the openid."""

    __tablename__ = "review_data_requests"
    __table_args__ = (Index("ix_review_data_requests_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # export / delete
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending / approved / rejected
    channel: Mapped[str] = mapped_column(String(16), default="chat")  # chat / staff
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
