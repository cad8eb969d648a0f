"""scheduler: a run counts its uncertain deliveries (in flight when the sender stopped)

Revision ID: 0302_uncertain_deliveries
Revises: 0301_scheduler_core
"""
from alembic import op
import sqlalchemy as sa

revision = "0302_uncertain_deliveries"
down_revision = "0301_scheduler_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uncertain", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("campaign_runs", schema=None) as batch_op:
        batch_op.drop_column("uncertain")
