"""Consent to keep health data (PIPL arts. 28-31): what the resident decided, under which notice version.

Assessment results are sensitive personal information, so they are kept only with the resident's
separate consent to the current privacy notice, and never for a child under 14 (whose guardian
would have to agree, which the chat cannot check). Everything else the service does, the crisis
response, the handoff and its transcript above all, does not wait for or depend on this.

It lives in bot/, with the resident it belongs to, below both of its users: flows asks for and
records the decisions, handoff's console and review show the history to staff, and neither has to
import the other for it. The table keeps its Alembic branch (`flows/migrations`, 0104_consent).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow
from bot.models import BigId
from bot.services import Services
from knowledge.texts import Texts

VERSION_KEY = "privacy.version"
DECISIONS = ("granted", "declined", "withdrawn")
AGE_BAND, PAPER_FORM = "age_band", "paper_form"
AGE_BANDS = ("under14", "14to17", "adult")  # as the chat numbers them, 1-3
UNDER_14 = "under14"


class ConsentEvent(Base):
    """One step in a resident's consent history: a decision on the privacy notice, the age band, a paper form.

    Append-only, so staff can show what the resident agreed to, under which notice version and when;
    the current state is the latest decision (`summarise`)."""

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_resident", "resident_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # granted / declined / withdrawn / age_band / paper_form
    notice_version: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(64), default="")  # the age band; the paper form's scale
    channel: Mapped[str] = mapped_column(String(16), default="chat")  # chat / paper
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def notice_version(texts: Texts) -> str:
    """The privacy notice's version, written in `knowledge/data/texts/privacy.yaml`.

    Consent is given to one version; a new one asks again. The version names the notice, so it must
    read the same in every language."""
    local = texts.local(VERSION_KEY)
    versions = {local.get(lang) for lang in ("zh-Hans", "zh-Hant", "en")}
    if len(versions) != 1:
        raise ValueError(f"text {VERSION_KEY!r} must be the same in every language, got {sorted(versions)}")
    return versions.pop()


@dataclass(frozen=True)
class Consent:
    decision: str | None = None  # the latest of DECISIONS, None when never asked
    version: str = ""  # the notice version that decision was made on
    at: datetime | None = None
    age_band: str | None = None

    def decided(self, current: str) -> bool:
        """Asked already under the current notice: not asked again until a new version."""
        return self.decision is not None and self.version == current

    def keeps_results(self, current: str) -> bool:
        return self.decision == "granted" and self.version == current and self.age_band != UNDER_14


async def history(session: AsyncSession, resident_id: int) -> list[ConsentEvent]:
    rows = await session.scalars(select(ConsentEvent).where(ConsentEvent.resident_id == resident_id)
                                 .order_by(ConsentEvent.id))
    return list(rows)


def summarise(events: list[ConsentEvent]) -> Consent:
    decision = next((e for e in reversed(events) if e.kind in DECISIONS), None)
    age = next((e.detail for e in reversed(events) if e.kind == AGE_BAND), None)
    if decision is None:
        return Consent(age_band=age)
    return Consent(decision.kind, decision.notice_version, decision.created_at, age)


async def consent_of(services: Services, resident_id: int) -> Consent:
    async with services.db() as session:
        return summarise(await history(session, resident_id))


async def record(services: Services, resident_id: int, kind: str, version: str, *, detail: str = "",
                 channel: str = "chat", staff_id: int | None = None) -> ConsentEvent:
    row = ConsentEvent(resident_id=resident_id, kind=kind, notice_version=version, detail=detail[:64],
                       channel=channel, staff_id=staff_id, created_at=utcnow())
    async with services.db.begin() as session:
        session.add(row)
    return row

