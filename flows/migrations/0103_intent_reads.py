"""flows: the intent read for each free-text message

Revision ID: 0103_intent_reads
Revises: 0102_attendance
"""
from alembic import op
import sqlalchemy as sa

revision = "0103_intent_reads"
down_revision = "0102_attendance"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "intent_reads",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("resident_id", BIG_ID, nullable=False),
        sa.Column("conversation_id", BIG_ID, nullable=False),
        sa.Column("platform_msg_id", sa.String(length=64), nullable=False),
        sa.Column("intent", sa.String(length=32), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("runner_up", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"], name=op.f("fk_intent_reads_resident_id_residents"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intent_reads")),
    )
    with op.batch_alter_table("intent_reads", schema=None) as batch_op:
        batch_op.create_index("ix_intent_reads_time", ["created_at"], unique=False)
        batch_op.create_index("ix_intent_reads_resident", ["resident_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("intent_reads", schema=None) as batch_op:
        batch_op.drop_index("ix_intent_reads_resident")
        batch_op.drop_index("ix_intent_reads_time")
    op.drop_table("intent_reads")
