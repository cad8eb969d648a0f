"""Event registrations: capacity, the waiting list and promotion, safe across workers.

Every change to an event's list first takes a write lock on the event's row with a no-op UPDATE:
on PostgreSQL that is the row lock (held to commit), on SQLite it is the database write lock. So two
residents taking the last place at once, from two workers, are counted one after the other.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import utcnow
from bot.models import Conversation, Resident
from bot.services import Services
from bot.transcript import ResidentRef
from flows.models import Event, Registration

REGISTERED, WAITLISTED, CANCELLED = "registered", "waitlisted", "cancelled"
UPCOMING_LIMIT = 8


@dataclass(frozen=True)
class Outcome:
    status: str  # registered, waitlisted, already, gone
    position: int = 0  # place on the waiting list
    current: str = ""  # for `already`: the status they have


@dataclass(frozen=True)
class Cancelled:
    event: Event
    promoted_resident_id: int | None


async def _lock(session: AsyncSession, event_id: int) -> Event | None:
    await session.execute(update(Event).where(Event.id == event_id).values(capacity=Event.capacity)
                          .execution_options(synchronize_session=False))
    return await session.scalar(select(Event).where(Event.id == event_id).execution_options(populate_existing=True))


async def _count(session: AsyncSession, event_id: int, status: str) -> int:
    return await session.scalar(select(func.count()).select_from(Registration).where(
        Registration.event_id == event_id, Registration.status == status)) or 0


async def taken_counts(session: AsyncSession, event_ids: list[int]) -> dict[int, int]:
    rows = await session.execute(select(Registration.event_id, func.count()).where(
        Registration.event_id.in_(event_ids), Registration.status == REGISTERED).group_by(Registration.event_id))
    return dict(rows.all())


async def upcoming(services: Services, now: datetime | None = None,
                   limit: int = UPCOMING_LIMIT) -> list[tuple[Event, int]]:
    """Events not yet started and not cancelled, soonest first, with how many places are taken."""
    async with services.db() as session:
        events = list(await session.scalars(select(Event).where(
            Event.starts_at > (now or utcnow()), Event.cancelled.is_(False)).order_by(Event.starts_at, Event.id)
            .limit(limit)))
        taken = await taken_counts(session, [e.id for e in events])
    return [(event, taken.get(event.id, 0)) for event in events]


async def event_with_taken(services: Services, event_id: int) -> tuple[Event, int] | None:
    async with services.db() as session:
        event = await session.get(Event, event_id)
        if event is None:
            return None
        return event, await _count(session, event_id, REGISTERED)


async def register(services: Services, event_id: int, resident_id: int) -> Outcome:
    now = utcnow()
    async with services.db.begin() as session:
        event = await _lock(session, event_id)
        if event is None or event.cancelled or event.starts_at <= now:
            return Outcome("gone")
        mine = await session.scalar(select(Registration).where(
            Registration.event_id == event_id, Registration.resident_id == resident_id))
        if mine is not None and mine.status != CANCELLED:
            return Outcome("already", current=mine.status)
        status = REGISTERED if await _count(session, event_id, REGISTERED) < event.capacity else WAITLISTED
        if mine is None:
            session.add(Registration(event_id=event_id, resident_id=resident_id, status=status, created_at=now))
        else:  # signing up again after cancelling: back of the line
            mine.status, mine.created_at = status, now
        position = await _count(session, event_id, WAITLISTED) if status == WAITLISTED else 0  # autoflushed
        return Outcome(status, position=position)


async def cancel(services: Services, event_id: int, resident_id: int) -> Cancelled | None:
    """Cancel a registration; a freed place goes to the first on the waiting list."""
    async with services.db.begin() as session:
        event = await _lock(session, event_id)
        mine = await session.scalar(select(Registration).where(
            Registration.event_id == event_id, Registration.resident_id == resident_id))
        if event is None or mine is None or mine.status == CANCELLED:
            return None
        freed, mine.status = mine.status == REGISTERED, CANCELLED
        promoted = None
        if freed and not event.cancelled:
            first = await session.scalar(select(Registration).where(
                Registration.event_id == event_id, Registration.status == WAITLISTED)
                .order_by(Registration.created_at, Registration.id).limit(1))
            if first is not None:
                first.status, promoted = REGISTERED, first.resident_id
        return Cancelled(event, promoted)


class AttendanceError(ValueError):
    pass


async def set_attendance(services: Services, event_id: int, attended: set[int]) -> int:
    """Staff's attendance list for an event: these registration ids came (keeping the time first
    marked), the event's other registrations did not. Ids that are not a live registration of
    this event refuse the whole list. Returns how many attended."""
    now = utcnow()
    async with services.db.begin() as session:
        rows = list(await session.scalars(select(Registration).where(Registration.event_id == event_id)))
        live = {r.id for r in rows if r.status != CANCELLED}
        if attended - live:
            raise AttendanceError(f"not a registration of this event: {', '.join(map(str, sorted(attended - live)))}")
        for r in rows:
            if r.id not in attended:
                r.attended_at = None
            elif r.attended_at is None:
                r.attended_at = now
    return len(attended)


async def registrations_of(services: Services, resident_id: int) -> list[tuple[Registration, Event]]:
    """The resident's live registrations for events still to come, soonest first."""
    async with services.db() as session:
        rows = await session.execute(select(Registration, Event).join(Event, Event.id == Registration.event_id)
                                     .where(Registration.resident_id == resident_id,
                                            Registration.status != CANCELLED, Event.starts_at > utcnow())
                                     .order_by(Event.starts_at))
        return [(registration, event) for registration, event in rows.all()]


async def resident_ref(services: Services, resident_id: int) -> ResidentRef | None:
    """A ref for messaging a resident outside their own turn (e.g. a waiting-list promotion)."""
    async with services.db() as session:
        resident = await session.get(Resident, resident_id)
        if resident is None:
            return None
        conversation_id = await session.scalar(select(Conversation.id).where(
            Conversation.resident_id == resident_id).order_by(Conversation.last_at.desc()).limit(1))
    return ResidentRef(resident.id, resident.openid, conversation_id or 0, resident.language, False,
                       resident.subscribed)
