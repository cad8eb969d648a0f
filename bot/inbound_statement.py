"""A known resident's message in one PostgreSQL statement, where the stepwise path sends three.

One data-modifying CTE updates and reads the resident (with the facts packages read with them),
keeps their latest conversation if it is recent or opens one (the 12-hour gap rule), and inserts the
message, idempotent on (resident_id, platform_msg_id). It writes nothing for someone not yet known
(no row comes back: first contact takes the stepwise path) and leaves out a message written before
(its id comes back NULL: the caller reads where it went). SQLite has no data-modifying CTE and keeps
the stepwise path in `bot/transcript.py`, which decides the same way (tests/test_inbound_paths.py).
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, Select, bindparam, exists, literal, select, true, union_all, update
from sqlalchemy.dialects.postgresql import insert

from bot.db import UTCDateTime
from bot.models import HAS_PLATFORM_MSG_ID, Conversation, Message, Resident

_residents, _conversations, _messages = Resident.__table__, Conversation.__table__, Message.__table__
# What the caller binds besides the message's own columns: the openid, the time written and the
# start of the gap (`now - CONVERSATION_GAP`; computed in Python, so no interval arithmetic here).
_NOW, _GAP_START = bindparam("now", type_=UTCDateTime()), bindparam("gap_start", type_=UTCDateTime())
MESSAGE_VALUES = ("kind", "content", "platform_msg_id")  # the message's own bound values


def inbound_statement(facts: list[ColumnElement]) -> Select:
    """Rows of (resident id, language, subscribed, conversation id, message id or NULL, *facts)."""
    seen = (update(_residents).where(_residents.c.openid == bindparam("who")).values(last_inbound_at=_NOW)
            .returning(_residents.c.id, _residents.c.language, _residents.c.subscribed,
                       *(fact.label(f"fact_{i}") for i, fact in enumerate(facts))).cte("seen"))
    latest = (select(_conversations.c.id, _conversations.c.last_at).where(_conversations.c.resident_id == seen.c.id)
              .order_by(_conversations.c.last_at.desc()).limit(1).cte("latest"))
    kept = select(latest.c.id, latest.c.last_at).where(latest.c.last_at >= _GAP_START).cte("kept")
    touched = (update(_conversations).where(_conversations.c.id == kept.c.id, kept.c.last_at < _NOW)
               .values(last_at=_NOW).returning(_conversations.c.id).cte("touched"))
    opened = (insert(_conversations).from_select(
        ["resident_id", "started_at", "last_at", "max_risk"],
        select(seen.c.id, _NOW, _NOW, literal(0)).where(~exists(select(kept.c.id))))
              .returning(_conversations.c.id).cte("opened"))
    conversation = union_all(select(kept.c.id), select(opened.c.id)).cte("conversation")
    both = seen.join(conversation, true())  # one row each: the resident and the conversation kept or opened
    columns = ["conversation_id", "resident_id", "direction", "sender", *MESSAGE_VALUES, "delivery", "error",
               "created_at"]
    values = select(conversation.c.id, seen.c.id, literal("in"), literal("resident"),
                    *(bindparam(name, type_=_messages.c[name].type) for name in MESSAGE_VALUES),
                    literal(""), literal(""), _NOW).select_from(both)
    message = (insert(_messages).from_select(columns, values)
               .on_conflict_do_nothing(index_elements=[_messages.c.resident_id, _messages.c.platform_msg_id],
                                       index_where=HAS_PLATFORM_MSG_ID)
               .returning(_messages.c.id).cte("message"))
    return (select(seen.c.id, seen.c.language, seen.c.subscribed, conversation.c.id,
                   select(message.c.id).scalar_subquery(), *(seen.c[f"fact_{i}"] for i in range(len(facts))))
            .select_from(both).add_cte(touched))
