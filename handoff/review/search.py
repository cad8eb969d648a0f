"""Transcript search: by resident, counsellor, dates, risk level, outcome, tags and words.

Words: Chinese has no spaces, so a word is a substring. SQLite (the demo) scans with LIKE.
PostgreSQL uses a GIN index over each message's character bigrams (`review_bigrams`, created by
the migration): the query's bigrams must all be present (`@>`, the index), then ILIKE checks the
exact substring. pg_trgm was measured first: under the C.UTF-8 locale it does extract trigrams from
Chinese, but a two-character word — most Chinese words — yields none, so its "index" scan returned
every row and lost to a sequential scan (≈250 ms vs ≈1 ms for bigrams on 300,000 rows).
A one-character word has no bigram and falls back to the scan, bounded by the other filters.
Words are searched in what people wrote (residents, counsellors), not in the service's own replies.

Results are messages, newest first, paged by keyset on (created_at, id): no OFFSET.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import ARRAY, Select, Text, and_, cast, exists, func, literal, not_, select, tuple_, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.ext.asyncio import AsyncSession

from bot import localtime
from bot.auth import Staff
from bot.models import Message, Resident, ResidentTag, StaffUser
from handoff.detections import CrisisDetection
from handoff.models import Case
from handoff.review.access import CLOSED, OPEN, message_scope
from handoff.review.redact import redact

PAGE = 50
MAX_PAGE = 500


class SearchError(ValueError):
    """A filter the user typed is not valid; the message says which."""


@dataclass(frozen=True)
class Filters:
    openid: str = ""
    counsellor: str = ""  # username
    since: date | None = None  # local dates, inclusive
    until: date | None = None
    level: int | None = None  # at least this risk level
    outcome: str = ""
    tags: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    cursor: tuple[datetime, int] | None = None
    limit: int = PAGE

    def summary(self) -> str:
        """For the audit trail: the filters used, with personal data in the typed words redacted."""
        parts = [f"openid={self.openid}" if self.openid else "", f"counsellor={self.counsellor}" if self.counsellor else "",
                 f"since={self.since}" if self.since else "", f"until={self.until}" if self.until else "",
                 f"level>={self.level}" if self.level is not None else "", f"outcome={self.outcome}" if self.outcome else "",
                 f"tags={','.join(self.tags)}" if self.tags else "",
                 f"words={redact(' '.join(self.words))}" if self.words else "",
                 "next page" if self.cursor else ""]
        return " ".join(p for p in parts if p) or "all"


@dataclass(frozen=True)
class Hit:
    id: int
    conversation_id: int
    resident_id: int
    openid: str
    direction: str
    sender: str
    kind: str
    content: str
    created_at: datetime
    author: str = ""
    resident_name: str = ""


@dataclass
class Page:
    hits: list[Hit] = field(default_factory=list)
    next_cursor: str = ""


def parse_filters(query: dict) -> Filters:
    def day(name: str) -> date | None:
        value = query.get(name, "").strip()
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            raise SearchError(f"{name} must be a date like 2024-05-01") from None

    level = query.get("level", "").strip()
    if level and (not level.isdigit() or not 0 <= int(level) <= 4):
        raise SearchError("level must be 0-4")
    try:
        limit = min(MAX_PAGE, max(1, int(query.get("limit", PAGE))))
    except ValueError:
        raise SearchError("limit must be a number") from None
    return Filters(
        openid=query.get("openid", "").strip(), counsellor=query.get("counsellor", "").strip(),
        since=day("since"), until=day("until"), level=int(level) if level else None,
        outcome=query.get("outcome", "").strip(),
        tags=tuple(t for t in query.get("tags", "").replace("，", ",").split(",") if t.strip()),
        words=tuple(query.get("q", "").split()), cursor=decode_cursor(query.get("after", "")), limit=limit)


def encode_cursor(hit: Hit) -> str:
    return f"{int(hit.created_at.timestamp() * 1_000_000)}_{hit.id}"


def decode_cursor(value: str) -> tuple[datetime, int] | None:
    if not value:
        return None
    try:
        micros, ident = value.split("_")
        at = datetime.fromtimestamp(0, timezone.utc) + timedelta(microseconds=int(micros))
        return at, int(ident)
    except ValueError:
        raise SearchError("the page cursor is not valid; start the search again") from None


def bigrams(word: str) -> list[str]:
    """The same bigrams PostgreSQL's review_bigrams() makes, for the query side."""
    word = word.lower()
    return sorted({word[i:i + 2] for i in range(len(word) - 1)})


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


WORD_SENDERS = ("resident", "counsellor")  # the word index's rows (migration 0502): what people wrote


def word_condition(word: str, dialect: str):
    people = Message.sender.in_(WORD_SENDERS)
    if dialect == "postgresql":
        condition = and_(people, Message.content.ilike(_like(word), escape="\\"))
        grams = bigrams(word)
        if grams:
            condition = and_(func.review_bigrams(Message.content).op("@>")(cast(literal(grams, ARRAY(Text)),
                                                                                   ARRAY(Text))), condition)
        return condition
    return and_(people, func.lower(Message.content).like(_like(word.lower()), escape="\\"))


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), localtime.zone()).astimezone(timezone.utc)


def _closed_case(conversation_id, condition):
    """Filters match on closed cases only: a live case's counsellor or level must not pick out
    the conversation's older, readable messages."""
    return exists().where(Case.conversation_id == conversation_id, Case.status == CLOSED, condition)


def _risky_conversations(level: int):
    """Conversations with a closed case or a detection (not of an open case) at `level` or above.

    One IN over a UNION ALL, not two EXISTS under an OR: PostgreSQL priced the OR at a million
    (past its JIT threshold) and then chose to sort the whole date range."""
    detection_case = aliased(Case)
    of_open_case = exists(select(detection_case.id).where(
        detection_case.id == CrisisDetection.case_id, detection_case.status.in_(OPEN)).correlate_except(detection_case))
    return union_all(
        select(Case.conversation_id).where(Case.status == CLOSED, Case.level >= level),
        select(CrisisDetection.conversation_id).where(CrisisDetection.level >= level, not_(of_open_case)))


def build_query(user: Staff, f: Filters, dialect: str) -> Select:
    conv = Message.conversation_id
    query = (select(Message, Resident.openid, Resident.name, StaffUser.display_name)
             .join(Resident, Resident.id == Message.resident_id)
             .outerjoin(StaffUser, StaffUser.id == Message.author_id)
             .where(message_scope(user)))
    if f.openid:
        query = query.where(Resident.openid == f.openid)
    if f.since:
        query = query.where(Message.created_at >= _local_midnight(f.since))
    if f.until:
        query = query.where(Message.created_at < _local_midnight(f.until + timedelta(days=1)))
    if f.counsellor:
        staff = select(StaffUser.id).where(StaffUser.username == f.counsellor).scalar_subquery()
        query = query.where(_closed_case(conv, Case.counsellor_id == staff))
    if f.outcome:
        query = query.where(_closed_case(conv, Case.outcome == f.outcome))
    if f.level is not None:
        query = query.where(conv.in_(_risky_conversations(f.level)))
    for tag in f.tags:
        query = query.where(exists().where(ResidentTag.resident_id == Message.resident_id, ResidentTag.tag == tag))
    for word in f.words:
        query = query.where(word_condition(word, dialect))
    if f.cursor:
        query = query.where(tuple_(Message.created_at, Message.id) < tuple_(*f.cursor))
    return query.order_by(Message.created_at.desc(), Message.id.desc()).limit(f.limit)


async def search(session: AsyncSession, user: Staff, f: Filters) -> Page:
    dialect = session.bind.dialect.name
    rows = (await session.execute(build_query(user, f, dialect))).all()
    hits = [Hit(m.id, m.conversation_id, m.resident_id, openid, m.direction, m.sender, m.kind, m.content,
                m.created_at, author or "", name or "") for m, openid, name, author in rows]
    return Page(hits, encode_cursor(hits[-1]) if len(hits) == f.limit else "")
