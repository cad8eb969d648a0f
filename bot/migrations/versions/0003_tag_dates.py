"""resident tags keep the day they were first set (enrolment in a programme)

Revision ID: 0003_tag_dates
Revises: 0002_staff

Existing tags get their resident's created_at: the best date known for them. On SQLite the
batch recreates the table (a CURRENT_TIMESTAMP default cannot be added in place).
"""
from alembic import op
import sqlalchemy as sa

revision = "0003_tag_dates"
down_revision = "0002_staff"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resident_tags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True,
                                      server_default=sa.func.now()))
    op.execute("UPDATE resident_tags SET created_at = "
               "(SELECT residents.created_at FROM residents WHERE residents.id = resident_tags.resident_id)")


def downgrade() -> None:
    with op.batch_alter_table("resident_tags", schema=None) as batch_op:
        batch_op.drop_column("created_at")
