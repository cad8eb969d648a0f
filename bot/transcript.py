"""Write every inbound and outbound message to the database, inbound first, so nothing is lost.

The inbound row is written before any flow runs: a reply that fails later never costs the
resident's own words.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import utcnow
from bot.models import Conversation, Message, Resident
from bot.values import Inbound, Reply

CONVERSATION_GAP = timedelta(hours=12)  # silence after which a new conversation starts
NOT_TRANSCRIBED = {"templatesendjobfinish", "masssendjobfinish"}  # platform reports, not the resident
_LATEST_CONVERSATION = (select(Conversation.id).where(Conversation.resident_id == Resident.id)
                        .order_by(Conversation.last_at.desc()).limit(1).correlate(Resident).scalar_subquery())
_RESIDENT_AND_LATEST = (
    select(Resident.id, Resident.language, Resident.subscribed, Conversation.id, Conversation.last_at)
    .outerjoin(Conversation, Conversation.id == _LATEST_CONVERSATION)
    .where(Resident.openid == bindparam("openid")))


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

        Core statements, not ORM objects: this runs on every message, and four statements in one
        transaction cost a third of what the unit of work did. `late` marks a message written after
        a database outage: it keeps the time it arrived."""
        now = inbound.received_at if late else utcnow()
        async with self._sessions.begin() as session:
            found = (await session.execute(_RESIDENT_AND_LATEST, {"openid": inbound.openid})).first()
            is_new = found is None
            if is_new:
                resident_id = await session.scalar(insert(Resident).values(
                    openid=inbound.openid, subscribed=True, language="zh-Hans", area="", name="", scene="",
                    created_at=now, subscribed_at=now).returning(Resident.id))
                language, subscribed, conversation_id, last_at = "zh-Hans", True, None, None
            else:
                resident_id, language, subscribed, conversation_id, last_at = found
            changes = self._subscription_changes(inbound, now)
            subscribed = changes.get("subscribed", subscribed)
            await session.execute(update(Resident).where(Resident.id == resident_id).values(**changes))
            if last_at is not None and last_at.tzinfo is None:  # SQLite hands back naive UTC
                last_at = last_at.replace(tzinfo=now.tzinfo)
            if conversation_id is None or now - last_at > CONVERSATION_GAP:
                conversation_id = await session.scalar(insert(Conversation).values(
                    resident_id=resident_id, started_at=now, last_at=now, max_risk=0).returning(Conversation.id))
            else:
                await session.execute(update(Conversation).where(Conversation.id == conversation_id)
                                      .values(last_at=now))
            kind, content = describe(inbound)
            await session.execute(insert(Message).values(
                conversation_id=conversation_id, resident_id=resident_id, direction="in", sender="resident",
                kind=kind, content=content, platform_msg_id=inbound.msg_id, delivery="", error="",
                created_at=now))
        return ResidentRef(resident_id, inbound.openid, conversation_id, language, is_new, subscribed)

    @staticmethod
    def _subscription_changes(inbound: Inbound, now: datetime) -> dict:
        if inbound.event == "unsubscribe":
            return {"subscribed": False, "unsubscribed_at": now}
        changes = {"last_inbound_at": now}
        if inbound.event == "subscribe":
            changes.update(subscribed=True, subscribed_at=now)
            if inbound.event_key:
                changes["scene"] = inbound.event_key[:64]
        return changes

    async def record_outbound(self, ref: ResidentRef, replies: list[Reply], *, delivery: str,
                              sender: str = "bot", author_id: int | None = None, error: str = "") -> None:
        if not replies:
            return
        now = utcnow()
        async with self._sessions.begin() as session:
            await session.execute(insert(Message), [dict(
                conversation_id=ref.conversation_id, resident_id=ref.id, direction="out", sender=sender,
                kind=reply.kind, content=reply.summary(), platform_msg_id="", delivery=delivery,
                error=error[:255], author_id=author_id, created_at=now) for reply in replies])
