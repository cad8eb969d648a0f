"""a resident's message is in the transcript once, however often the platform or the spool delivers it

Revision ID: 0004_inbound_once
Revises: 0003_tag_dates

A unique index on (resident_id, platform_msg_id) over the rows that carry a platform message id (the
bot's replies carry ''). Copies written before it (a platform retry that took over a killed worker's
message, a spooled message drained again) are deleted first, keeping the first written: they repeat
its words. A crisis detection that points at a copy is pointed at the kept row (safety_detections
holds message ids without a foreign key; its branch may not be applied yet on a new database). On
PostgreSQL the table is locked against writes meanwhile, so a copy a running worker writes cannot
fail the index.
"""
from alembic import op
import sqlalchemy as sa

revision = "0004_inbound_once"
down_revision = "0003_tag_dates"
branch_labels = None
depends_on = None

HAS_PLATFORM_MSG_ID = "platform_msg_id <> ''"
COPIES = f"""
    SELECT id FROM (
        SELECT id, row_number() OVER (PARTITION BY resident_id, platform_msg_id ORDER BY id) AS nth
        FROM messages WHERE {HAS_PLATFORM_MSG_ID}) AS numbered
    WHERE nth > 1"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("LOCK TABLE messages IN SHARE ROW EXCLUSIVE MODE")
    if sa.inspect(bind).has_table("safety_detections"):
        op.execute(f"""
            UPDATE safety_detections SET message_id = (
                SELECT min(kept.id) FROM messages kept JOIN messages dup
                    ON kept.resident_id = dup.resident_id AND kept.platform_msg_id = dup.platform_msg_id
                WHERE dup.id = safety_detections.message_id)
            WHERE message_id IN ({COPIES})""")
    op.execute(f"DELETE FROM messages WHERE id IN ({COPIES})")
    op.create_index("uq_messages_resident_platform_msg", "messages", ["resident_id", "platform_msg_id"],
                    unique=True, postgresql_where=sa.text(HAS_PLATFORM_MSG_ID),
                    sqlite_where=sa.text(HAS_PLATFORM_MSG_ID))


def downgrade() -> None:
    op.drop_index("uq_messages_resident_platform_msg", table_name="messages")
