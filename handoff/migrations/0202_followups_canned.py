"""handoff: follow-up channel and task owner, the resident's satisfaction with a closed case,
canned responses supervisors edit

Revision ID: 0202_followups_canned
Revises: 0201_handoff_cases
"""
from alembic import op
import sqlalchemy as sa


revision = '0202_followups_canned'
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
    op.create_table('handoff_canned_responses',
    sa.Column('id', ID, nullable=False),
    sa.Column('shortcut', sa.String(length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_by', ID, nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['staff_users.id'], name=op.f('fk_handoff_canned_responses_updated_by_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoff_canned_responses')),
    sa.UniqueConstraint('shortcut', name=op.f('uq_handoff_canned_responses_shortcut'))
    )


def downgrade() -> None:
    op.drop_table('handoff_canned_responses')
    with op.batch_alter_table('handoff_followups', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_handoff_followups_done_by_staff_users'), type_='foreignkey')
        batch_op.drop_constraint(op.f('fk_handoff_followups_staff_id_staff_users'), type_='foreignkey')
        batch_op.drop_column('done_by')
        batch_op.drop_column('done_at')
        batch_op.drop_column('staff_id')
        batch_op.drop_column('channel')
    with op.batch_alter_table('handoff_cases', schema=None) as batch_op:
        batch_op.drop_column('satisfaction')
