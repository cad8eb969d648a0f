"""Write every inbound and outbound message to the database, inbound first, so nothing is lost.

The inbound row is written before any flow runs: a reply that fails later never costs the
resident's own words.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import utcnow
from bot.models import Conversation, Message, Resident
from bot.values import Inbound, Reply

CONVERSATION_GAP = timedelta(hours=12)  # silence after which a new conversation starts
NOT_TRANSCRIBED = {"templatesendjobfinish", "masssendjobfinish"}  # platform reports, not the resident


@dataclass(frozen=True)
class ResidentRef:
    id: int
    openid: str
    conversation_id: int
    language: str
    is_new: bool
    subscribed: bool


def describe(inbound: Inbound) -> tuple[str, str]:
    """The transcript's kind and content for an inbound message."""
    if inbound.kind == "event":
        return f"event:{inbound.event}", inbound.event_key or (
            f"{inbound.latitude},{inbound.longitude}" if inbound.has_location else "")
    if inbound.kind == "location":
        return "location", f"{inbound.latitude},{inbound.longitude} {inbound.label}".strip()
    if inbound.kind == "link":
        return "link", f"{inbound.label} {inbound.url}".strip()
    if inbound.kind in ("text", "voice"):
        return inbound.kind, inbound.text
    return inbound.kind, inbound.media_id


def is_transcribed(inbound: Inbound) -> bool:
    return not (inbound.kind == "event" and inbound.event in NOT_TRANSCRIBED)


class Transcript:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record_inbound(self, inbound: Inbound, *, late: bool = False) -> ResidentRef:
        """Find or create the resident and their conversation, apply (un)subscribe, store the message.

        `late` marks a message written after a database outage: it keeps the time it arrived."""
        now = inbound.received_at if late else utcnow()
        async with self._sessions.begin() as session:
            resident = await session.scalar(select(Resident).where(Resident.openid == inbound.openid))
            is_new = resident is None
            if is_new:
                resident = Resident(openid=inbound.openid, subscribed=True, created_at=now, subscribed_at=now)
                session.add(resident)
                await session.flush()
            self._apply_subscription(resident, inbound, now)
            if inbound.event != "unsubscribe":
                resident.last_inbound_at = now
            conversation = await self._current_conversation(session, resident.id, now)
            kind, content = describe(inbound)
            session.add(Message(conversation_id=conversation.id, resident_id=resident.id, direction="in",
                                sender="resident", kind=kind, content=content,
                                platform_msg_id=inbound.msg_id, created_at=now))
            return ResidentRef(resident.id, resident.openid, conversation.id, resident.language, is_new,
                               resident.subscribed)

    @staticmethod
    def _apply_subscription(resident: Resident, inbound: Inbound, now: datetime) -> None:
        if inbound.event == "unsubscribe":
            resident.subscribed = False
            resident.unsubscribed_at = now
        elif inbound.event == "subscribe":
            resident.subscribed = True
            resident.subscribed_at = now
            if inbound.event_key:
                resident.scene = inbound.event_key[:64]

    @staticmethod
    async def _current_conversation(session: AsyncSession, resident_id: int, now: datetime) -> Conversation:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.resident_id == resident_id)
            .order_by(Conversation.last_at.desc()).limit(1))
        last = conversation.last_at if conversation else None
        if last is not None and last.tzinfo is None:  # SQLite hands back naive UTC
            last = last.replace(tzinfo=now.tzinfo)
        if conversation is None or now - last > CONVERSATION_GAP:
            conversation = Conversation(resident_id=resident_id, started_at=now, last_at=now)
            session.add(conversation)
            await session.flush()
        else:
            conversation.last_at = now
        return conversation

    async def record_outbound(self, ref: ResidentRef, replies: list[Reply], *, delivery: str,
                              sender: str = "bot", author_id: int | None = None, error: str = "") -> None:
        if not replies:
            return
        now = utcnow()
        async with self._sessions.begin() as session:
            for reply in replies:
                session.add(Message(conversation_id=ref.conversation_id, resident_id=ref.id, direction="out",
                                    sender=sender, kind=reply.kind, content=reply.summary(),
                                    delivery=delivery, error=error[:255], author_id=author_id, created_at=now))
