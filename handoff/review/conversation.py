"""Everything the conversation view, the print view and the exports show about one conversation."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.auth import Staff
from bot.consent import Consent, ConsentEvent, history as consent_history, summarise
from bot.models import Conversation, Message, Resident, StaffUser
from handoff.detections import CrisisDetection
from handoff.models import Case, CaseEvent, Note
from handoff.review.access import case_visible, message_scope
from handoff.review.export import Row
from handoff.review.models import QualityReview


@dataclass
class Turn:
    message: Message
    author: str
    detections: list[CrisisDetection] = field(default_factory=list)
    pieces: list[tuple[str, bool]] = field(default_factory=list)  # (text, is evidence)


@dataclass
class CaseView:
    case: Case
    counsellor: str
    events: list[tuple[CaseEvent, str]]
    notes: list[tuple[Note, str]]
    reviews: list[QualityReview]


@dataclass
class ConversationView:
    conversation: Conversation
    resident: Resident
    turns: list[Turn]
    cases: list[CaseView]
    detections: list[CrisisDetection]
    consent: Consent = field(default_factory=Consent)  # the resident's, now: what may be kept of their health data
    consent_history: list[tuple[ConsentEvent, str]] = field(default_factory=list)  # (step, staff name)

    def rows(self) -> list[Row]:
        return [Row(self.conversation.id, t.message.id, t.message.created_at, self.resident.openid,
                    t.message.direction, t.message.sender, t.author, t.message.kind, t.message.content)
                for t in self.turns]

    def names(self, with_staff: bool = False) -> list[str]:
        names = [self.resident.name]
        if with_staff:
            names += [t.author for t in self.turns] + [c.counsellor for c in self.cases]
        return [n for n in names if n]


def highlight(text: str, words: list[str]) -> list[tuple[str, bool]]:
    """Split text into pieces, marking each occurrence of the detector's evidence."""
    words = sorted({w for w in words if w}, key=len, reverse=True)
    pieces: list[tuple[str, bool]] = []
    i, start = 0, 0
    while i < len(text):
        word = next((w for w in words if text.startswith(w, i)), None)
        if word:
            if start < i:
                pieces.append((text[start:i], False))
            pieces.append((word, True))
            i = start = i + len(word)
        else:
            i += 1
    if start < len(text):
        pieces.append((text[start:], False))
    return pieces


async def load(session: AsyncSession, conversation_id: int, user: Staff) -> ConversationView | None:
    """The part of the conversation `user` may read (handoff.review.access): its messages one by
    one, its cases one by one, and the detections of what is shown."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        return None
    resident = await session.get(Resident, conversation.resident_id)
    staff = {s.id: s.display_name or s.username for s in await session.scalars(select(StaffUser))}
    messages = list(await session.scalars(select(Message).where(Message.conversation_id == conversation_id,
                                                                message_scope(user))
                                          .order_by(Message.created_at, Message.id)))
    shown = [c for c in await session.scalars(select(Case).where(Case.conversation_id == conversation_id)
                                              .order_by(Case.queued_at)) if case_visible(user, c)]
    ids, case_ids = {m.id for m in messages}, {c.id for c in shown}
    detections = [d for d in await session.scalars(select(CrisisDetection).where(
        CrisisDetection.conversation_id == conversation_id).order_by(CrisisDetection.created_at))
        if d.message_id in ids or (d.message_id is None and d.case_id in case_ids)]
    by_message: dict[int, list[CrisisDetection]] = {}
    for d in detections:
        if d.message_id is not None:
            by_message.setdefault(d.message_id, []).append(d)
    turns = []
    for m in messages:
        found = by_message.get(m.id, [])
        turns.append(Turn(m, staff.get(m.author_id, "") if m.author_id else "", found,
                          highlight(m.content, [w for d in found for w in (d.matched or [])])))
    cases = [await _case_view(session, case, staff) for case in shown]
    steps = await consent_history(session, resident.id)
    return ConversationView(conversation, resident, turns, cases, detections, summarise(steps),
                            [(e, staff.get(e.staff_id, "") if e.staff_id else "") for e in steps])


async def _case_view(session: AsyncSession, case: Case, staff: dict[int, str]) -> CaseView:
    events = await session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.at))
    notes = await session.scalars(select(Note).where(Note.case_id == case.id).order_by(Note.created_at))
    reviews = await session.scalars(select(QualityReview).where(QualityReview.case_id == case.id)
                                    .order_by(QualityReview.created_at))
    return CaseView(case, staff.get(case.counsellor_id, "") if case.counsellor_id else "",
                    [(e, staff.get(e.actor_id, "") if e.actor_id else "") for e in events],
                    [(n, staff.get(n.author_id, "") if n.author_id else "") for n in notes], list(reviews))


@dataclass
class CaseReading:
    """One closed case as its quality reviewer reads it: its own messages, counsellor's included,
    and its card (timeline, notes, outcome)."""
    view: ConversationView
    card: CaseView | None
    turns: list[Turn]


async def load_case(session: AsyncSession, case: Case, user: Staff) -> CaseReading:
    """The case's part of its conversation, by the rule handoff.review.access states: what came
    after the cases before it closed, up to its own close (or to the end, for the last case)."""
    view = await load(session, case.conversation_id, user)
    others = list(await session.scalars(select(Case).where(Case.conversation_id == case.conversation_id)))
    closes = [c.closed_at for c in others if c.id < case.id and c.closed_at is not None]
    since = max(closes, default=None)
    last = all(c.id <= case.id for c in others)
    until = case.closed_at if case.closed_at is not None and not last else None
    turns = [t for t in view.turns
             if (since is None or t.message.created_at > since)
             and (until is None or t.message.created_at <= until)]
    card = next((c for c in view.cases if c.case.id == case.id), None)
    return CaseReading(view, card, turns)
