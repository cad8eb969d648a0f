"""handoff: follow-up channel and task owner, the resident's satisfaction with a closed case

Revision ID: 0202_followup_tasks
Revises: 0201_handoff_cases
"""
from alembic import op
import sqlalchemy as sa


revision = '0202_followup_tasks'
down_revision = '0201_handoff_cases'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('handoff_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('satisfaction', sa.Integer(), nullable=True))
    with op.batch_alter_table('handoff_followups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=16), nullable=False, server_default='cs'))
        batch_op.add_column(sa.Column('staff_id', ID, nullable=True))
        batch_op.add_column(sa.Column('done_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('done_by', ID, nullable=True))
        batch_op.create_foreign_key(op.f('fk_handoff_followups_staff_id_staff_users'), 'staff_users',
                                    ['staff_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(op.f('fk_handoff_followups_done_by_staff_users'), 'staff_users',
                                    ['done_by'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('handoff_followups', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_handoff_followups_done_by_staff_users'), type_='foreignkey')
        batch_op.drop_constraint(op.f('fk_handoff_followups_staff_id_staff_users'), type_='foreignkey')
        batch_op.drop_column('done_by')
        batch_op.drop_column('done_at')
        batch_op.drop_column('staff_id')
        batch_op.drop_column('channel')
    with op.batch_alter_table('handoff_cases', schema=None) as batch_op:
        batch_op.drop_column('satisfaction')
