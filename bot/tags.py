"""Residents' tags: set by admins, flows, QR scenes and CSV import (population groups, area,
station, language, opt-outs such as `optout:campaigns`).

The store sits in bot/, below every package that writes or reads tags: flows tags a resident who
asks to stop pushes, the scheduler's audiences leave out whoever carries an opt-out tag, and
neither imports the other for it."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Resident, ResidentTag

TAG = re.compile(r"^[\w\-:.]{1,64}$")
CAMPAIGNS_OPT_OUT = "optout:campaigns"  # set by the resident asking the bot to stop pushes (flows/optout.py)
OPT_OUT_TAGS = (CAMPAIGNS_OPT_OUT, "optout:all")  # no campaign push reaches their carrier (scheduler/audiences.py)
IMPORT_BATCH = 1000


def check_tag(tag: str) -> str:
    tag = tag.strip()
    if not TAG.match(tag):
        raise ValueError(f"tag {tag!r}: use 1-64 letters, digits, '-', '_', ':' or '.'")
    return tag


async def _insert_tags(session: AsyncSession, rows: list[dict]) -> int:
    if not rows:
        return 0
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(insert(ResidentTag).on_conflict_do_nothing(
        index_elements=["resident_id", "tag"]).returning(ResidentTag.id), rows)
    return len(result.all())


async def add_tags(sessions: async_sessionmaker[AsyncSession], resident_id: int, tags: list[str]) -> int:
    async with sessions.begin() as session:
        return await _insert_tags(session, [{"resident_id": resident_id, "tag": check_tag(t)} for t in tags])


async def remove_tag(sessions: async_sessionmaker[AsyncSession], resident_id: int, tag: str) -> None:
    async with sessions.begin() as session:
        await session.execute(delete(ResidentTag).where(ResidentTag.resident_id == resident_id,
                                                        ResidentTag.tag == tag))


async def is_known(sessions: async_sessionmaker[AsyncSession], tag: str) -> bool:
    """A tag some resident carries: what a programme schedule may name (a typo names nobody)."""
    async with sessions() as session:
        return await session.scalar(select(ResidentTag.id).where(ResidentTag.tag == tag).limit(1)) is not None


async def tag_counts(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, int]]:
    async with sessions() as session:
        rows = await session.execute(select(ResidentTag.tag, func.count()).group_by(ResidentTag.tag)
                                     .order_by(func.count().desc(), ResidentTag.tag))
    return [(tag, n) for tag, n in rows]


@dataclass
class ImportResult:
    rows: int = 0
    tagged: int = 0  # tags newly added
    unknown: list[str] = field(default_factory=list)  # openids with no resident (first few)
    errors: list[str] = field(default_factory=list)  # "line N: reason"


async def import_csv(sessions: async_sessionmaker[AsyncSession], text: str) -> ImportResult:
    """CSV with a header: `openid` and `tags` (separated by spaces or ';'), optional `area` and `name`."""
    result = ImportResult()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or "openid" not in reader.fieldnames:
        result.errors.append("line 1: the header must name an 'openid' column (and 'tags', 'area', 'name')")
        return result
    chunk: list[tuple[int, dict]] = []
    for line, row in enumerate(reader, start=2):
        chunk.append((line, row))
        if len(chunk) >= IMPORT_BATCH:
            await _import_chunk(sessions, chunk, result)
            chunk = []
    await _import_chunk(sessions, chunk, result)
    return result


async def _import_chunk(sessions, chunk: list[tuple[int, dict]], result: ImportResult) -> None:
    if not chunk:
        return
    openids = [str(row.get("openid") or "").strip() for _, row in chunk]
    async with sessions.begin() as session:
        found = {o: (rid, r) for o, rid, r in (await session.execute(
            select(Resident.openid, Resident.id, Resident).where(Resident.openid.in_(openids)))).all()}
        rows = []
        for (line, row), openid in zip(chunk, openids):
            result.rows += 1
            if openid not in found:
                if len(result.unknown) < 20:
                    result.unknown.append(openid or f"(line {line}: empty)")
                continue
            rid, resident = found[openid]
            for key in ("area", "name"):
                if (row.get(key) or "").strip():
                    setattr(resident, key, row[key].strip()[:64])
            for tag in re.split(r"[;\s]+", row.get("tags") or ""):
                if not tag:
                    continue
                try:
                    rows.append({"resident_id": rid, "tag": check_tag(tag)})
                except ValueError as exc:
                    result.errors.append(f"line {line}: {exc}")
        result.tagged += await _insert_tags(session, rows)
