"""A case's whole history as staff read it: messages, notes and timeline steps in one order, paged.

A night shift must never meet a case cut short: the console shows the newest page and reaches every
older one through `earlier`, a cursor on the one order (time, then kind, then id) all three share.
A case's messages are the resident's from the conversation it started in up to the next case of
theirs (so the bot turns before it, the close notice and the satisfaction answer after it are in).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import ColumnElement, and_, or_, select

from bot.labels import Labels
from bot.models import Message
from bot.services import Services
from handoff.models import Case, CaseEvent, Note
from handoff.record import message_json, note_json, staff_names, step_json

PAGE = 200  # items in one page: a whole short case at once, a long one in a few steps
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MESSAGE, NOTE, STEP = 0, 1, 2  # the rank that orders items of one instant


class BadCursor(ValueError):
    """An `earlier` cursor this module did not make."""


@dataclass(frozen=True, order=True)
class Key:
    """Where an item stands in the one order."""
    at: datetime
    rank: int
    id: int

    def encode(self) -> str:
        return f"{(self.at - _EPOCH) // timedelta(microseconds=1)}.{self.rank}.{self.id}"

    @classmethod
    def decode(cls, text: str) -> Key:
        try:
            micros, rank, item_id = (int(part) for part in text.split("."))
        except ValueError:
            raise BadCursor(text) from None
        if rank not in (MESSAGE, NOTE, STEP) or micros < 0 or item_id < 0:
            raise BadCursor(text)
        return cls(_EPOCH + timedelta(microseconds=micros), rank, item_id)


@dataclass(frozen=True)
class Page:
    items: list[dict]  # oldest first
    earlier: str | None  # the cursor for the page before, None when this page starts the case

    def json(self) -> dict:
        return {"items": self.items, "earlier": self.earlier}


def _before(key: Key | None, rank: int, at, item_id) -> ColumnElement | bool:
    """Rows of a source at `rank` that stand before `key` in the one order."""
    if key is None:
        return True
    if rank < key.rank:
        return at <= key.at
    if rank > key.rank:
        return at < key.at
    return or_(at < key.at, and_(at == key.at, item_id < key.id))


async def _next_case_start(session, case: Case) -> datetime | None:
    return await session.scalar(select(Case.queued_at).where(Case.resident_id == case.resident_id, Case.id > case.id)
                                 .order_by(Case.id).limit(1))


async def page(services: Services, case: Case, labels: Labels, before: Key | None = None,
               limit: int = PAGE) -> Page:
    """The `limit` items just before `before` (the newest when None), oldest first."""
    names = await staff_names(services)
    async with services.db() as session:
        until = await _next_case_start(session, case)
        in_case = [Message.resident_id == case.resident_id, Message.conversation_id >= case.conversation_id]
        if until is not None:
            in_case.append(Message.created_at < until)
        messages = await session.scalars(
            select(Message).where(*in_case, _before(before, MESSAGE, Message.created_at, Message.id))
            .order_by(Message.created_at.desc(), Message.id.desc()).limit(limit + 1))
        found = [(Key(m.created_at, MESSAGE, m.id), _message(m, names)) for m in messages]
        notes = await session.scalars(
            select(Note).where(Note.case_id == case.id, _before(before, NOTE, Note.created_at, Note.id))
            .order_by(Note.created_at.desc(), Note.id.desc()).limit(limit + 1))
        found += [(Key(n.created_at, NOTE, n.id), note_json(n, names)) for n in notes]
        steps = await session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id, _before(before, STEP, CaseEvent.at, CaseEvent.id))
            .order_by(CaseEvent.at.desc(), CaseEvent.id.desc()).limit(limit + 1))
        found += [(Key(e.at, STEP, e.id), step_json(e, names, labels)) for e in steps]
    found.sort(key=lambda pair: pair[0], reverse=True)
    shown = found[:limit]
    earlier = shown[-1][0].encode() if len(found) > limit else None
    return Page([item for _, item in reversed(shown)], earlier)


def _message(m: Message, names: dict[int, str]) -> dict:
    return dict(message_json(m), type="message", author=names.get(m.author_id or 0, ""))
