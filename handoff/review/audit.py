"""The audit trail: who looked at which transcript content, when and from where.

Every handler that shows, searches or exports transcript content calls `record` before it answers;
the trail is only ever appended to (there is no update or delete anywhere in the service).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.auth import Staff
from bot.client_address import client_address
from bot.db import utcnow
from handoff.review.models import ACTIONS, AuditEntry

log = logging.getLogger(__name__)
PAGE = 50


async def record(sessions: async_sessionmaker[AsyncSession], request: web.Request | None, staff: Staff | None,
                 action: str, target_type: str, target_id: object = "", summary: str = "") -> None:
    """Append one entry. `summary` describes the query or the change, never message content."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        staff_id=staff.id if staff else None, staff_name=staff.username if staff else "system",
        action=action, target_type=target_type, target_id=str(target_id)[:64], summary=summary[:500],
        remote_addr=_remote(request), user_agent=(request.headers.get("User-Agent", "") if request else "")[:255],
        created_at=utcnow())
    async with sessions.begin() as session:
        session.add(entry)
    log.info("review audit", extra={"audit_action": action, "target_type": target_type,
                                    "target_id": str(target_id), "staff_id": entry.staff_id})


def _remote(request: web.Request | None) -> str:
    return client_address(request)[:64] if request is not None else ""


@dataclass(frozen=True)
class AuditFilter:
    staff: str = ""  # username
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None  # keyset: entries with a smaller id


async def entries(session: AsyncSession, f: AuditFilter, limit: int = PAGE) -> list[AuditEntry]:
    """Newest first, one page; the next page starts before the last id returned."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if f.staff:
        query = query.where(AuditEntry.staff_name == f.staff)
    if f.action:
        query = query.where(AuditEntry.action == f.action)
    if f.target_type:
        query = query.where(AuditEntry.target_type == f.target_type)
    if f.target_id:
        query = query.where(AuditEntry.target_id == f.target_id)
    if f.since:
        query = query.where(AuditEntry.created_at >= f.since)
    if f.until:
        query = query.where(AuditEntry.created_at < f.until)
    if f.before:
        query = query.where(AuditEntry.id < f.before)
    return list(await session.scalars(query))
