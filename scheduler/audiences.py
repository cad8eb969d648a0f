"""Audience rules compiled to one SQL query, streamed in batches by keyset on resident id.

Whatever the rule says, a push never reaches a resident who unsubscribed or opted out: those
conditions are added here, in the one place every campaign's audience is built.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import AsyncIterator
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Resident, ResidentTag
from bot.tags import OPT_OUT_TAGS

CS_WINDOW = timedelta(hours=48)
MAX_PERIODS = 60  # "every N days after" looks back this many periods
MAX_ACTIVE_DAYS = 3650


def _days(value) -> int | None:
    """A form's "active within N days": blank, or a whole number a date can be counted back by."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_ACTIVE_DAYS:
        raise ValueError(f"近 N 天活跃须为 0-{MAX_ACTIVE_DAYS} 的整数，收到 {text[:40]!r}")
    return int(text)


@dataclass(frozen=True)
class AudienceRule:
    tags_any: tuple[str, ...] = ()
    tags_all: tuple[str, ...] = ()
    tags_none: tuple[str, ...] = ()
    area: str = ""
    subscribed: bool = True
    active_within_days: int | None = None

    @classmethod
    def from_dict(cls, data: dict) -> "AudienceRule":
        def tags(key: str) -> tuple[str, ...]:
            raw = data.get(key) or ()
            items = raw.replace(",", " ").split() if isinstance(raw, str) else raw
            return tuple(sorted({str(t).strip() for t in items if str(t).strip()}))
        return cls(tags_any=tags("tags_any"), tags_all=tags("tags_all"), tags_none=tags("tags_none"),
                   area=str(data.get("area") or "").strip(), subscribed=data.get("subscribed", True) is not False,
                   active_within_days=_days(data.get("active_within_days")))

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Recipient:
    id: int
    openid: str
    name: str
    language: str
    area: str


@dataclass(frozen=True)
class DueDate:
    """Residents whose own date (`anchor`) plus `offset_days` (then every `every_days`) falls on a day."""

    anchor: str  # a key of ANCHORS
    offset_days: int
    every_days: int = 0
    tz: ZoneInfo = field(default=ZoneInfo("Asia/Shanghai"))
    tag: str = ""  # the programme, for the enrolment anchor


def _last_assessment():
    from flows.models import Assessment

    return select(func.max(Assessment.created_at)).where(Assessment.resident_id == Resident.id).scalar_subquery()


# A resident's own dates a schedule can count from. "enrolment" is the day the schedule's
# programme tag was first set on the resident (resident_tags.created_at).
ENROLMENT = "enrolment"
ANCHORS = {"subscribed": lambda: Resident.subscribed_at, "first_contact": lambda: Resident.created_at,
           "last_assessment": _last_assessment, ENROLMENT: lambda: ResidentTag.created_at}


def _has_tag(tags: tuple[str, ...]):
    return exists().where(ResidentTag.resident_id == Resident.id, ResidentTag.tag.in_(tags))


def conditions(rule: AudienceRule, *, now: datetime, push: bool = True, cs_only: bool = False) -> list:
    where = []
    if rule.tags_any:
        where.append(_has_tag(rule.tags_any))
    where += [_has_tag((tag,)) for tag in rule.tags_all]
    if rule.tags_none:
        where.append(~_has_tag(rule.tags_none))
    if rule.area:
        where.append(Resident.area == rule.area)
    if rule.active_within_days is not None:
        where.append(Resident.last_inbound_at >= now - timedelta(days=rule.active_within_days))
    if push or rule.subscribed:
        where.append(Resident.subscribed.is_(True))
    elif rule.subscribed is False:
        where.append(Resident.subscribed.is_(False))
    if push:
        where.append(~_has_tag(OPT_OUT_TAGS))
    if cs_only:  # customer-service messages only inside the platform's 48-hour window
        where.append(Resident.last_inbound_at >= now - CS_WINDOW)
    return where


def due_condition(due: DueDate, day: date):
    """The anchor falls on one of the local days that make `day` due: an OR of UTC ranges, portable SQL."""
    if due.anchor not in ANCHORS:
        raise ValueError(f"unknown anchor {due.anchor!r}; known: {', '.join(ANCHORS)}")
    if due.anchor == ENROLMENT and not due.tag:
        raise ValueError("an enrolment schedule needs its programme tag")
    column = ANCHORS[due.anchor]()
    first = day - timedelta(days=due.offset_days)
    days = [first] + ([first - timedelta(days=k * due.every_days) for k in range(1, MAX_PERIODS)]
                      if due.every_days > 0 else [])
    ranges = []
    for d in days:
        start = datetime.combine(d, time(0), tzinfo=due.tz).astimezone(ZoneInfo("UTC"))
        ranges.append(and_(column >= start, column < start + timedelta(days=1)))
    if due.anchor == ENROLMENT:
        return exists().where(ResidentTag.resident_id == Resident.id, ResidentTag.tag == due.tag, or_(*ranges))
    return or_(*ranges)


def recipients_query(where: list, *, after: int = 0, limit: int | None = None) -> Select:
    query = select(Resident.id, Resident.openid, Resident.name, Resident.language, Resident.area) \
        .where(Resident.id > after, *where).order_by(Resident.id)
    return query.limit(limit) if limit else query


async def count(sessions: async_sessionmaker[AsyncSession], where: list) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Resident).where(*where)) or 0)


async def batches(sessions: async_sessionmaker[AsyncSession], where: list, *, after: int = 0,
                  size: int = 500) -> AsyncIterator[list[Recipient]]:
    """The audience in id order, `size` at a time; each batch is a fresh short query (memory stays flat)."""
    while True:
        async with sessions() as session:
            rows = (await session.execute(recipients_query(where, after=after, limit=size))).all()
        if not rows:
            return
        yield [Recipient(*row) for row in rows]
        after = rows[-1][0]
