"""Who is on duty when: a weekly pattern in local time, plus one-off changes (extra duty, time off).

A shift whose end is not after its start runs past midnight into the next day ("22:00"-"08:00").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import localtime
from bot.models import StaffUser
from handoff.models import Shift, ShiftChange

ROLES = ("counsellor", "supervisor")


def _minutes(hhmm: str) -> int:
    hours, _, minutes = hhmm.partition(":")
    value = int(hours) * 60 + int(minutes)
    if not (0 <= int(hours) <= 24 and 0 <= int(minutes) < 60 and value <= 24 * 60):
        raise ValueError(f"time {hhmm!r} must be HH:MM between 00:00 and 24:00")
    return value


def covers(shift: Shift, at: datetime) -> bool:
    local = at.astimezone(localtime.zone())
    now = local.hour * 60 + local.minute
    start, end = _minutes(shift.starts), _minutes(shift.ends)
    today, yesterday = local.weekday(), (local.weekday() - 1) % 7
    if end > start:
        return shift.weekday == today and start <= now < end
    return (shift.weekday == today and now >= start) or (shift.weekday == yesterday and now < end)


@dataclass(frozen=True)
class OnDuty:
    staff_id: int
    name: str
    role: str
    languages: tuple[str, ...]
    max_chats: int


async def on_duty(session: AsyncSession, at: datetime, role: str | None = None) -> list[OnDuty]:
    """Everyone on duty at `at` (optionally only one role): the pattern, minus time off, plus extra duty."""
    shifts = list(await session.scalars(select(Shift).where(Shift.weekday.in_(
        [at.astimezone(localtime.zone()).weekday(), (at.astimezone(localtime.zone()).weekday() - 1) % 7]))))
    changes = list(await session.scalars(select(ShiftChange).where(
        and_(ShiftChange.starts_at <= at, ShiftChange.ends_at > at))))
    off = {(c.staff_id, c.role) for c in changes if c.kind == "off"}
    duty = {(s.staff_id, s.role) for s in shifts if covers(s, at)} - off
    duty |= {(c.staff_id, c.role) for c in changes if c.kind == "on"}
    if role is not None:
        duty = {d for d in duty if d[1] == role}
    if not duty:
        return []
    users = {u.id: u for u in await session.scalars(
        select(StaffUser).where(StaffUser.id.in_({sid for sid, _ in duty}), StaffUser.active))}
    return sorted((OnDuty(sid, users[sid].display_name or users[sid].username, r,
                          tuple(x for x in users[sid].languages.split(",") if x), users[sid].max_chats)
                   for sid, r in duty if sid in users), key=lambda d: (d.role, d.staff_id))


async def set_weekly(session: AsyncSession, staff_id: int, role: str, weekdays: list[int], starts: str,
                     ends: str) -> None:
    """Replace this person's weekly pattern for `role` with the same hours on each of `weekdays`."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    _minutes(starts), _minutes(ends)
    await session.execute(delete(Shift).where(Shift.staff_id == staff_id, Shift.role == role))
    for day in weekdays:
        if not 0 <= day <= 6:
            raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")
        session.add(Shift(staff_id=staff_id, weekday=day, starts=starts, ends=ends, role=role))


async def add_change(session: AsyncSession, staff_id: int, kind: str, starts_at: datetime, ends_at: datetime,
                     role: str = "counsellor", note: str = "") -> ShiftChange:
    if kind not in ("on", "off"):
        raise ValueError("kind must be 'on' (extra duty) or 'off' (time off)")
    if ends_at <= starts_at:
        raise ValueError("a change must end after it starts")
    change = ShiftChange(staff_id=staff_id, kind=kind, starts_at=starts_at, ends_at=ends_at, role=role,
                         note=note[:255])
    session.add(change)
    return change


async def pattern(session: AsyncSession) -> list[Shift]:
    return list(await session.scalars(select(Shift).order_by(Shift.staff_id, Shift.weekday)))
