"""a message's resident is its conversation's resident, held by the schema

Revision ID: 0005_message_owner
Revises: 0004_inbound_once

On SQLite the transcript once read a resident's latest conversation with a correlated subquery that
SQLite resolved against the wrong table, so messages were filed in other residents' conversations.
Those rows are reported and moved first: each to its own resident's conversation that had started
by the message's time (the latest such), or to a new conversation of theirs when none had. A handoff
case or crisis detection that took the wrong conversation from such a message is moved with it.
Then a composite foreign key (conversation_id, resident_id) -> conversations(id, resident_id)
replaces the plain one, so no statement can do it again, on either backend. The referred pair gets
a unique index (not a constraint: on SQLite adding a constraint would rebuild conversations, and
dropping the old table would cascade into messages).
"""
import logging

from alembic import op
import sqlalchemy as sa

revision = "0005_message_owner"
down_revision = "0004_inbound_once"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

MISFILED = sa.text("""
    SELECT m.id, m.resident_id, m.conversation_id, m.created_at FROM messages m
    JOIN conversations c ON c.id = m.conversation_id
    WHERE c.resident_id <> m.resident_id ORDER BY m.id""")
OWN_CONVERSATION = sa.text("""
    SELECT id FROM conversations WHERE resident_id = :resident AND started_at <= :at
    ORDER BY started_at DESC, id DESC LIMIT 1""")


def _own_conversation(bind, resident_id: int, at) -> int:
    found = bind.execute(OWN_CONVERSATION, {"resident": resident_id, "at": at}).scalar()
    if found is not None:
        return found
    return bind.execute(sa.text(
        "INSERT INTO conversations (resident_id, started_at, last_at, max_risk) "
        "VALUES (:resident, :at, :at, 0) RETURNING id"), {"resident": resident_id, "at": at}).scalar_one()


def _repair(bind) -> None:
    rows = bind.execute(MISFILED).all()
    if not rows:
        return
    log.warning("%d message(s) were filed in another resident's conversation; moving each to its own", len(rows))
    tables = sa.inspect(bind).get_table_names()
    for message_id, resident_id, wrong, at in rows:
        right = _own_conversation(bind, resident_id, at)
        bind.execute(sa.text("UPDATE messages SET conversation_id = :right WHERE id = :id"),
                     {"right": right, "id": message_id})
        for table in ("handoff_cases", "safety_detections"):
            if table in tables:
                bind.execute(sa.text(f"UPDATE {table} SET conversation_id = :right "
                                     "WHERE conversation_id = :wrong AND resident_id = :resident"),
                             {"right": right, "wrong": wrong, "resident": resident_id})
        bind.execute(sa.text("UPDATE conversations SET last_at = :at WHERE id = :right AND last_at < :at"),
                     {"right": right, "at": at})


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("LOCK TABLE messages IN SHARE ROW EXCLUSIVE MODE")
    _repair(bind)
    op.create_index("uq_conversations_id_resident", "conversations", ["id", "resident_id"], unique=True)
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint("fk_messages_conversation_id_conversations", type_="foreignkey")
        batch.create_foreign_key("fk_messages_conversation_resident", "conversations",
                                 ["conversation_id", "resident_id"], ["id", "resident_id"], ondelete="CASCADE")


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint("fk_messages_conversation_resident", type_="foreignkey")
        batch.create_foreign_key("fk_messages_conversation_id_conversations", "conversations",
                                 ["conversation_id"], ["id"], ondelete="CASCADE")
    op.drop_index("uq_conversations_id_resident", table_name="conversations")
