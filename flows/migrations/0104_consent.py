"""flows: consent_events, the resident's consent history (privacy notice decisions, age band, paper forms)

Revision ID: 0104_consent
Revises: 0103_intent_reads
"""
from alembic import op
import sqlalchemy as sa

revision = "0104_consent"
down_revision = "0103_intent_reads"
branch_labels = None
depends_on = ("0002_staff",)

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "consent_events",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("resident_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("notice_version", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("staff_id", BIG_ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"],
                                name=op.f("fk_consent_events_resident_id_residents"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"],
                                name=op.f("fk_consent_events_staff_id_staff_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
    )
    op.create_index("ix_consent_events_resident", "consent_events", ["resident_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_consent_events_resident", table_name="consent_events")
    op.drop_table("consent_events")
