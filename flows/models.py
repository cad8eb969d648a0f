"""What the flows keep: the mental-health record (assessments), events with their registrations, and
the intent read for each free-text message (the consent the record rests on is bot/consent.py)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow
from bot.models import BigId


class Assessment(Base):
    """One completed scale in a resident's 心理健康档案, from the chat or a paper form."""

    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_resident_time", "resident_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    scale: Mapped[str] = mapped_column(String(32))
    answers: Mapped[list] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(Integer)
    band: Mapped[str] = mapped_column(String(64))
    flags: Mapped[list] = mapped_column(JSON, default=list)
    extras: Mapped[dict] = mapped_column(JSON, default=dict)  # percent, band_alt
    source: Mapped[str] = mapped_column(String(16), default="chat")  # chat / paper
    entered_by: Mapped[int | None] = mapped_column(BigId)  # staff user for paper forms
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Event(Base):
    """A lecture, group session or outreach activity at a station."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_starts_at", "starts_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    station_id: Mapped[str] = mapped_column(String(64))
    capacity: Mapped[int] = mapped_column(Integer)
    audiences: Mapped[list] = mapped_column(JSON, default=list)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    seed_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # demo seeding stays idempotent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Registration(Base):
    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "resident_id"),
        Index("ix_registrations_event_status", "event_id", "status", "created_at"),
        Index("ix_registrations_resident", "resident_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))  # registered / waitlisted / cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # marked by staff at the event


class IntentRead(Base):
    """What the bot understood a resident's free text to ask for: staff see where content is missing
    (the weekly share of `unclear` on the dashboard) and can check the reading against the words."""

    __tablename__ = "intent_reads"
    __table_args__ = (Index("ix_intent_reads_time", "created_at"),
                      Index("ix_intent_reads_resident", "resident_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(BigId)
    platform_msg_id: Mapped[str] = mapped_column(String(64), default="")  # the message in the transcript
    intent: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)
    runner_up: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))  # acted / asked (below the threshold) / unclear (answered so)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
