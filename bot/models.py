"""Residents and the transcript: every message in or out, bot or human."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text,
                        UniqueConstraint, func, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements only INTEGER keys
# Rows that carry the platform's message id: a resident's messages (the bot's replies carry none).
HAS_PLATFORM_MSG_ID = text("platform_msg_id <> ''")


class Resident(Base):
    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(8), default="zh-Hans")
    area: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(64), default="")
    scene: Mapped[str] = mapped_column(String(64), default="")  # QR scene they subscribed with
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    subscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    tags: Mapped[list["ResidentTag"]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class ResidentTag(Base):
    """A tag such as a population group, station or opt-out; a table so audiences can query it."""

    __tablename__ = "resident_tags"
    __table_args__ = (UniqueConstraint("resident_id", "tag"), Index("ix_resident_tags_tag", "tag"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(64))
    # The day the tag was first set (a programme's enrolment): inserts never overwrite a tag, so
    # tagging again keeps it. NULL only for rows older than the column with no resident date.
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow,
                                                        server_default=func.now())


class Conversation(Base):
    """A run of messages with one resident; a new one starts after a long silence."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_resident_last", "resident_id", "last_at"),
        # What a message's composite foreign key refers to: a conversation together with its resident.
        Index("uq_conversations_id_resident", "id", "resident_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    max_risk: Mapped[int] = mapped_column(Integer, default=0)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_time", "conversation_id", "created_at"),
        Index("ix_messages_resident_time", "resident_id", "created_at"),
        # A message the platform retried, or the spool drained again, is written once.
        Index("uq_messages_resident_platform_msg", "resident_id", "platform_msg_id", unique=True,
              postgresql_where=HAS_PLATFORM_MSG_ID, sqlite_where=HAS_PLATFORM_MSG_ID),
        # A message's resident is its conversation's resident: the schema refuses anything else.
        ForeignKeyConstraint(["conversation_id", "resident_id"], ["conversations.id", "conversations.resident_id"],
                             name="fk_messages_conversation_resident", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(BigId)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))  # in / out
    sender: Mapped[str] = mapped_column(String(16))  # resident / bot / counsellor / system
    kind: Mapped[str] = mapped_column(String(32))  # text, voice, location, event:subscribe, news, ...
    content: Mapped[str] = mapped_column(Text, default="")
    platform_msg_id: Mapped[str] = mapped_column(String(64), default="")
    delivery: Mapped[str] = mapped_column(String(16), default="")  # passive / cs / failed / held
    error: Mapped[str] = mapped_column(String(255), default="")
    author_id: Mapped[int | None] = mapped_column(BigId)  # staff user who wrote it, if any
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StaffUser(Base):
    """A counsellor, supervisor, admin or reviewer who logs into the console."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[str] = mapped_column(String(128))  # comma-separated: counsellor,supervisor,admin,reviewer
    languages: Mapped[str] = mapped_column(String(64), default="zh-Hans")
    max_chats: Mapped[int] = mapped_column(Integer, default=3)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
