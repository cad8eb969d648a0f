"""Write every inbound and outbound message to the database, inbound first, so nothing is lost.

The inbound row is written before any flow runs: a reply that fails later never costs the
resident's own words.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Insert, Table, bindparam, insert, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import utcnow
from bot.inbound_statement import inbound_statement
from bot.models import HAS_PLATFORM_MSG_ID, Conversation, Message, Resident
from bot.values import Inbound, Reply

CONVERSATION_GAP = timedelta(hours=12)  # silence after which a new conversation starts
KIND_LENGTH = Message.__table__.c.kind.type.length
NOT_TRANSCRIBED = {"templatesendjobfinish", "masssendjobfinish"}  # platform reports, not the resident
_residents, _conversations, _messages = Resident.__table__, Conversation.__table__, Message.__table__
# Built once: Core statements with bound parameters compile once and are cached, where building an
# ORM statement per message cost more CPU than the round trip it sends.
# The updated resident's row, named with its table. SQLAlchemy writes a SQLite RETURNING clause with
# bare column names, subqueries included, and SQLite then reads `resident_id = id` as the
# conversation's own id: messages were filed in other residents' conversations. The qualified name
# means the same on both backends (and the schema's composite key refuses any misfiling anyway).
_UPDATED_RESIDENT_ID = literal_column(f"{_residents.name}.{_residents.c.id.name}")
_LATEST = select(_conversations.c.id, _conversations.c.last_at).where(
    _conversations.c.resident_id == _UPDATED_RESIDENT_ID).order_by(_conversations.c.last_at.desc()).limit(1)
# The resident's row is updated and read back in one statement, with their latest conversation.
_RESIDENT_AND_LATEST = (_residents.c.id, _residents.c.language, _residents.c.subscribed,
                        _LATEST.with_only_columns(_conversations.c.id).scalar_subquery(),
                        _LATEST.with_only_columns(_conversations.c.last_at).scalar_subquery())
_NEW_CONVERSATION = insert(_conversations).returning(_conversations.c.id)
_TOUCH_CONVERSATION = (update(_conversations).where(_conversations.c.id == bindparam("conversation_id"))
                       .values(last_at=bindparam("now")))
RESIDENT_ID = _UPDATED_RESIDENT_ID  # what a column read with the resident (`Transcript.read_with_resident`) refers to
_INSERT_MESSAGE = insert(_messages)
_REPLY_COLUMNS = ("conversation_id", "resident_id", "direction", "sender", "kind", "content", "platform_msg_id",
                  "delivery", "error", "author_id", "created_at")
# Where the same platform message was written before: its conversation, and whether it was the
# resident's first (their row and the message were written with the same time).
_WRITTEN_BEFORE = (select(_messages.c.conversation_id, _messages.c.created_at == _residents.c.created_at)
                   .join(_residents, _residents.c.id == _messages.c.resident_id)
                   .where(_messages.c.resident_id == bindparam("resident_id"),
                          _messages.c.platform_msg_id == bindparam("msg_id")))


def _dialect_insert(dialect: str):
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]


def _insert_resident(dialect: str):
    """A new resident, unless a concurrent write of the same message (a retry of their first message,
    which writes without the resident's lock) got there first: then no row comes back."""
    return _dialect_insert(dialect)(_residents).on_conflict_do_nothing(
        index_elements=[_residents.c.openid]).returning(_residents.c.id)


def _insert_inbound(dialect: str):
    """The resident's message, unless it is there already (a platform retry that took over a killed
    worker's turn, a spooled message drained again): then no row, and RETURNING returns nothing."""
    return _dialect_insert(dialect)(_messages).on_conflict_do_nothing(
        index_elements=[_messages.c.resident_id, _messages.c.platform_msg_id],
        index_where=HAS_PLATFORM_MSG_ID).returning(_messages.c.id)


@dataclass(frozen=True)
class ResidentRef:
    id: int
    openid: str
    conversation_id: int
    language: str
    is_new: bool
    subscribed: bool
    # What packages asked to read with the resident's row (`Transcript.read_with_resident`); a name
    # missing here was not read (a first contact, a reference made outside a turn).
    facts: dict = field(default_factory=dict, compare=False, hash=False)
    # Rows a stage noted for this turn (`Transcript.note`), written with its reply in one statement.
    noted: list[tuple[Table, dict]] = field(default_factory=list, compare=False, hash=False, repr=False)


def describe(inbound: Inbound) -> tuple[str, str]:
    """The transcript's kind and content for an inbound message."""
    if inbound.kind == "event":  # the kind column holds 32: a long event name is cut, never refused
        return f"event:{inbound.event}"[:KIND_LENGTH], inbound.event_key or (
            f"{inbound.latitude},{inbound.longitude}" if inbound.has_location else "")
    if inbound.kind == "location":
        return "location", f"{inbound.latitude},{inbound.longitude} {inbound.label}".strip()
    if inbound.kind == "link":
        return "link", f"{inbound.label} {inbound.url}".strip()
    if inbound.kind in ("text", "voice"):
        return inbound.kind, inbound.text
    return inbound.kind, inbound.media_id


def is_transcribed(inbound: Inbound) -> bool:
    return not (inbound.kind == "event" and inbound.event in NOT_TRANSCRIBED)


class Transcript:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._insert_inbound = _insert_inbound(engine.dialect.name)
        self._new_resident = _insert_resident(engine.dialect.name)
        self._facts: dict[str, ColumnElement] = {}
        self._seen_resident = self._resident_update(last_inbound_at=bindparam("now"))
        # PostgreSQL writes in a CTE (a known resident's plain message, a reply with its noted rows: one
        # statement each); SQLite has no data-modifying CTE and writes step by step
        self._writes_in_cte = engine.dialect.name == "postgresql"
        self._in_one = inbound_statement([]) if self._writes_in_cte else None
        self._reply_with: dict[tuple, Insert] = {}  # by the noted rows' tables and columns

    def read_with_resident(self, name: str, column: ColumnElement) -> None:
        """Read `column` (a scalar subquery on `RESIDENT_ID`) with every message's resident row, into
        `ResidentRef.facts[name]`: a stage that would ask the database on every turn asks nothing more."""
        self._facts[name] = column
        self._seen_resident = self._resident_update(last_inbound_at=bindparam("now"))
        if self._writes_in_cte:
            self._in_one = inbound_statement(list(self._facts.values()))

    def _resident_update(self, **values):
        return (update(_residents).where(_residents.c.openid == bindparam("who")).values(**values)
                .returning(*_RESIDENT_AND_LATEST, *self._facts.values()))

    async def record_inbound(self, inbound: Inbound, *, late: bool = False) -> ResidentRef:
        """Find or create the resident and their conversation, apply (un)subscribe, store the message.

        In autocommit, no transaction: this runs on every message, and each statement is safe to
        repeat, so a message whose write broke off half way is written whole when it is retried or
        drained from the spool. A known resident's plain message is one statement on PostgreSQL
        (`bot/inbound_statement.py`); first contact, (un)subscribe and SQLite go step by step, three
        statements. A message written before is not written again: the reference to its row comes
        back, at the cost of one read on that rare path only. `late` marks a message written after a
        database outage: it keeps the time it arrived."""
        now = inbound.received_at if late else utcnow()
        changes = self._subscription_changes(inbound, now)
        async with self._autocommit.connect() as conn:
            if self._writes_in_cte and changes.keys() == {"last_inbound_at"}:
                ref = await self._in_one_statement(conn, inbound, now)
                if ref is not None:
                    return ref
                found = None  # not known yet: the CTE wrote nothing
            else:
                found = (await conn.execute(*self._update_resident(inbound.openid, changes, now))).first()
            return await self._stepwise(conn, inbound, changes, now, found)

    async def _in_one_statement(self, conn, inbound: Inbound, now: datetime) -> ResidentRef | None:
        """The reference, or None for someone not known yet (then the statement wrote nothing)."""
        kind, content = describe(inbound)
        row = (await conn.execute(self._in_one, dict(
            who=inbound.openid, now=now, gap_start=now - CONVERSATION_GAP, kind=kind, content=content,
            platform_msg_id=inbound.msg_id))).first()
        if row is None:
            return None
        resident_id, language, subscribed, conversation_id, message_id, *read = row
        is_new = False
        if message_id is None:
            conversation_id, is_new = await self._written_before(conn, resident_id, inbound.msg_id)
        return ResidentRef(resident_id, inbound.openid, conversation_id, language, is_new, subscribed,
                           dict(zip(self._facts, read)) if message_id is not None else {})

    async def _stepwise(self, conn, inbound: Inbound, changes: dict, now: datetime, found) -> ResidentRef:
        """The resident (`found`: their row updated and read back, None if not known), conversation
        and message one statement each; the gap rule decided here as `inbound_statement` decides it."""
        is_new = found is None
        if is_new:
            values = dict(openid=inbound.openid, subscribed=True, language="zh-Hans", area="", name="",
                          scene="", created_at=now, subscribed_at=now) | changes
            resident_id = (await conn.execute(self._new_resident, values)).scalar()
            language, subscribed, conversation_id, last_at = "zh-Hans", values["subscribed"], None, None
            if resident_id is None:  # a retry of their first message wrote them a moment ago
                found = (await conn.execute(*self._update_resident(inbound.openid, changes, now))).one()
        facts = {}
        if found is not None:
            resident_id, language, subscribed, conversation_id, last_at, *read = found
            facts = dict(zip(self._facts, read))
        if conversation_id is None or now - last_at > CONVERSATION_GAP:
            conversation_id = (await conn.execute(_NEW_CONVERSATION, dict(
                resident_id=resident_id, started_at=now, last_at=now, max_risk=0))).scalar_one()
        elif last_at < now:
            await conn.execute(_TOUCH_CONVERSATION, {"conversation_id": conversation_id, "now": now})
        kind, content = describe(inbound)
        written = (await conn.execute(self._insert_inbound, dict(
            conversation_id=conversation_id, resident_id=resident_id, direction="in", sender="resident",
            kind=kind, content=content, platform_msg_id=inbound.msg_id, delivery="", error="",
            author_id=None, created_at=now))).first()
        if written is None:
            conversation_id, is_new = await self._written_before(conn, resident_id, inbound.msg_id)
        return ResidentRef(resident_id, inbound.openid, conversation_id, language, bool(is_new), subscribed,
                           facts if written is not None else {})

    @staticmethod
    async def _written_before(conn, resident_id: int, msg_id: str) -> tuple[int, bool]:
        conversation_id, first = (await conn.execute(_WRITTEN_BEFORE, dict(resident_id=resident_id,
                                                                            msg_id=msg_id))).one()
        return conversation_id, bool(first)

    def _update_resident(self, openid: str, changes: dict, now: datetime) -> tuple:
        """The statement that applies `changes` and reads the resident back; prepared for a plain message."""
        if changes.keys() == {"last_inbound_at"}:
            return self._seen_resident, {"who": openid, "now": now}
        return self._resident_update(**changes), {"who": openid}

    @staticmethod
    def _subscription_changes(inbound: Inbound, now: datetime) -> dict:
        if inbound.event == "unsubscribe":
            return {"subscribed": False, "unsubscribed_at": now}
        changes = {"last_inbound_at": now}
        if inbound.event == "subscribe":
            changes.update(subscribed=True, subscribed_at=now)
            if inbound.event_key:
                changes["scene"] = inbound.event_key[:64]
        return changes

    @staticmethod
    def note(ref: ResidentRef, table: Table, values: dict) -> None:
        """Keep a row about this turn (an intent reading) to write with its reply: one round trip for
        both, where writing it at once cost one more on every such turn. A worker that dies between
        the passive answer and this write loses the row with the reply's (that window lost the reply
        row before too; the message is always written first, and a reading can be read from it
        again). One that dies before answering writes it once, when the turn runs again."""
        ref.noted.append((table, values))

    async def record_outbound(self, ref: ResidentRef, replies: list[Reply], *, delivery: str,
                              sender: str = "bot", author_id: int | None = None, error: str = "") -> None:
        """The replies, with the rows the turn noted: one statement on PostgreSQL (each noted row an
        INSERT in a CTE), each autocommit statement atomic without a transaction."""
        now = utcnow()
        rows = [dict(conversation_id=ref.conversation_id, resident_id=ref.id, direction="out", sender=sender,
                     kind=reply.kind, content=reply.summary(), platform_msg_id="", delivery=delivery,
                     error=error[:255], author_id=author_id, created_at=now) for reply in replies]
        noted, ref.noted[:] = list(ref.noted), []
        if not rows and not noted:
            return
        async with self._autocommit.connect() as conn:
            if self._writes_in_cte and rows and noted:  # the first reply carries the noted rows; a passive one is alone
                first = rows.pop(0)
                for i, (_, values) in enumerate(noted):
                    first |= {f"noted_{i}_{name}": value for name, value in values.items()}
                await conn.execute(self._with_noted(noted), first)
            else:
                for table, values in noted:
                    await conn.execute(insert(table), values)
            if rows:
                await conn.execute(_INSERT_MESSAGE, rows)

    def _with_noted(self, noted: list[tuple[Table, dict]]):
        """A reply's INSERT with each noted row's INSERT in a CTE, built once per shape of rows, so
        it compiles once (a multi-row VALUES would compile on every turn)."""
        shape = tuple((table, tuple(values)) for table, values in noted)
        if shape not in self._reply_with:
            statement = insert(_messages).values({name: bindparam(name) for name in _REPLY_COLUMNS})
            for i, (table, names) in enumerate(shape):
                statement = statement.add_cte(insert(table).values(
                    {name: bindparam(f"noted_{i}_{name}", type_=table.c[name].type) for name in names}
                ).cte(f"noted_{i}"))
            self._reply_with[shape] = statement
        return self._reply_with[shape]

    async def record_noted(self, ref: ResidentRef) -> None:
        """The rows the turn noted, for a turn with no passive reply: before any customer-service send."""
        await self.record_outbound(ref, [], delivery="")
