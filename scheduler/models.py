"""Audiences, campaigns, their runs and one delivery record per (run, resident).

The delivery row is claimed before the message goes out, so a run that dies half way resumes
without sending anyone a second copy: the UNIQUE (run, resident) constraint is the guarantee.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON, Boolean, Column, Float, ForeignKey, Index, Integer, LargeBinary, String, Table, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow
from bot.models import BigId

# APScheduler's SQLAlchemy job store table, declared here so migrations create it (and the schema
# check sees it); the job store finds it present and leaves it alone.
JOBS_TABLE = "scheduler_jobs"
scheduler_jobs = Table(
    JOBS_TABLE, Base.metadata,
    Column("id", String(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)


class Audience(Base):
    """A saved rule over residents: tags any/all/none, area, subscribed, last active within N days."""

    __tablename__ = "audiences"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    rule: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Campaign(Base):
    """What to send (template or customer-service text/news, Jinja2 per resident), to whom and when."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    audience_id: Mapped[int | None] = mapped_column(ForeignKey("audiences.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16), default="template")  # template / text / news
    content: Mapped[dict] = mapped_column(JSON, default=dict)  # template_id, fields, url, text, articles
    schedule: Mapped[dict] = mapped_column(JSON, default=dict)  # kind: manual/once/cron/relative/event
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    system: Mapped[str] = mapped_column(String(32), default="")  # event_reminder / daily_tip, else ""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CampaignRun(Base):
    """One firing of a campaign; `occurrence` names it (a date, an event and offset) so it fires once."""

    __tablename__ = "campaign_runs"
    __table_args__ = (UniqueConstraint("campaign_id", "occurrence"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    occurrence: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending/running/paused/done/cancelled
    context: Mapped[dict] = mapped_column(JSON, default=dict)  # what every resident's text shares (event, tip)
    cursor: Mapped[int] = mapped_column(BigId, default=0)  # last resident id fully handled
    total: Mapped[int] = mapped_column(Integer, default=0)  # audience size when the run started
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    uncertain: Mapped[int] = mapped_column(Integer, default=0)  # in flight when the sender stopped (scheduler.resend)
    delivered: Mapped[int] = mapped_column(Integer, default=0)  # confirmed by TEMPLATESENDJOBFINISH
    pause_reason: Mapped[str] = mapped_column(String(255), default="")
    resume_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Delivery(Base):
    """One resident in one run: claimed (queued) before the send, then sent / failed / skipped, or
    uncertain (the request was in flight when its sender stopped: it may have arrived; a template
    push is then resent with the same client_msg_id, see scheduler.resend)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("run_id", "resident_id"),
        Index("ix_deliveries_resident_time", "resident_id", "created_at"),
        Index("ix_deliveries_msgid", "msgid"),
        Index("ix_deliveries_run_status", "run_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("campaign_runs.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str] = mapped_column(String(255), default="")
    msgid: Mapped[str] = mapped_column(String(64), default="")
    report: Mapped[str] = mapped_column(String(64), default="")  # TEMPLATESENDJOBFINISH status
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

