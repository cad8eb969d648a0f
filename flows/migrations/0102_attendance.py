"""flows: registrations carry an attendance mark (when staff marked the resident as come)

Revision ID: 0102_attendance
Revises: 0101_flows_core
"""
from alembic import op
import sqlalchemy as sa

revision = "0102_attendance"
down_revision = "0101_flows_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attended_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_column("attended_at")
