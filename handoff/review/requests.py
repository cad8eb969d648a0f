"""Data-subject requests (个人信息保护法): a resident asks for their data or for its deletion; a
supervisor approves or rejects.

Flows file a request from the chat with `file_request(services, resident_id, "export" | "delete")`.
An approved export is the resident's rows from every table that holds a `resident_id` (so a new
package's data is included without a change here); an approved deletion removes the resident row,
and with it, through the foreign keys' ON DELETE CASCADE, their transcript and records.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import localtime
from bot.db import load_models, utcnow
from bot.models import Resident
from bot.services import Services
from handoff.models import Case
from handoff.review.models import DataRequest

log = logging.getLogger(__name__)
KINDS = ("export", "delete")
NOT_EXPORTED = {"review_data_requests", "review_audit"}


class RequestError(ValueError):
    pass


def subject_of(openid: str) -> str:
    return hashlib.sha256(openid.encode()).hexdigest()


async def file_request(services: Services, resident_id: int, kind: str, *, channel: str = "chat",
                       note: str = "") -> DataRequest:
    """Record the request; asking again while one of the same kind is pending returns that one."""
    if kind not in KINDS:
        raise RequestError(f"kind must be one of {', '.join(KINDS)}")
    async with services.db.begin() as session:
        resident = await session.get(Resident, resident_id)
        if resident is None:
            raise RequestError("no such resident")
        pending = await session.scalar(select(DataRequest).where(
            DataRequest.resident_id == resident_id, DataRequest.kind == kind, DataRequest.status == "pending"))
        if pending is not None:
            return pending
        request = DataRequest(resident_id=resident_id, subject=subject_of(resident.openid), kind=kind,
                              channel=channel, note=note[:500], created_at=utcnow())
        session.add(request)
        await session.flush()
    log.info("data request filed", extra={"request_id": request.id, "kind": kind})
    return request


async def pending_first(session: AsyncSession, limit: int = 200) -> list[DataRequest]:
    rows = await session.scalars(select(DataRequest).order_by((DataRequest.status != "pending"),
                                                              DataRequest.created_at.desc()).limit(limit))
    return list(rows)


@dataclass
class Decision:
    request: DataRequest
    data: dict | None = None  # the export, for an approved export request
    resident_id: int | None = None
    openid: str = ""  # of an erased resident, so the caller can drop their conversation state


async def resident_data(session: AsyncSession, resident_id: int) -> dict:
    """Every row that names the resident, table by table."""
    out: dict[str, list[dict]] = {}
    for table in load_models().sorted_tables:
        if table.name in NOT_EXPORTED:
            continue
        column = table.c.get("resident_id") if table.name != "residents" else table.c.id
        if column is None:
            continue
        rows = (await session.execute(select(table).where(column == resident_id))).mappings().all()
        if rows:
            out[table.name] = [{k: _plain(v) for k, v in row.items()} for row in rows]
    return out


def _plain(value):
    if isinstance(value, datetime):
        return localtime.iso(value)
    if isinstance(value, (str, int, float, bool, list, dict)) or value is None:
        return value
    return str(value)


async def decide(services: Services, request_id: int, staff_id: int, approve: bool, note: str = "") -> Decision:
    async with services.db.begin() as session:
        request = await session.get(DataRequest, request_id, with_for_update=True)
        if request is None:
            raise RequestError("no such request")
        if request.status != "pending":
            raise RequestError("this request was already decided")
        decision = Decision(request, resident_id=request.resident_id)
        if approve and request.resident_id is not None:
            if request.kind == "export":
                decision.data = await resident_data(session, request.resident_id)
            else:
                decision.openid = await _erase(session, request.resident_id)
        request.status = "approved" if approve else "rejected"
        request.decided_at, request.decided_by = utcnow(), staff_id
        if note:
            request.note = note[:500]
    return decision


async def _erase(session: AsyncSession, resident_id: int) -> str:
    open_case = await session.scalar(select(Case.id).where(Case.resident_id == resident_id, Case.status != "closed"))
    if open_case is not None:
        raise RequestError("the resident has an open case; close it before deleting their data")
    openid = await session.scalar(select(Resident.openid).where(Resident.id == resident_id))
    await session.execute(delete(Resident).where(Resident.id == resident_id))
    return openid or ""
