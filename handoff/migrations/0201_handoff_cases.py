"""handoff: cases, timeline, notes, callbacks, roster, follow-ups

Revision ID: 0201_handoff_cases
Revises: 0001_core
"""
from alembic import op
import sqlalchemy as sa


revision = '0201_handoff_cases'
down_revision = '0001_core'
branch_labels = ('handoff',)
depends_on = ('0002_staff',)


def upgrade() -> None:
    op.create_table('handoff_cases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('conversation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fallback_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('counsellor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('counsellor_risk_rating', sa.Integer(), nullable=True),
    sa.Column('false_alarm', sa.Boolean(), nullable=False),
    sa.Column('told_position', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['counsellor_id'], ['staff_users.id'], name=op.f('fk_handoff_cases_counsellor_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_handoff_cases_resident_id_residents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoff_cases'))
    )
    with op.batch_alter_table('handoff_cases', schema=None) as batch_op:
        batch_op.create_index('ix_handoff_cases_resident_status', ['resident_id', 'status'], unique=False)
        batch_op.create_index('ix_handoff_cases_status', ['status'], unique=False)

    op.create_table('handoff_shift_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_handoff_shift_changes_staff_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoff_shift_changes'))
    )
    with op.batch_alter_table('handoff_shift_changes', schema=None) as batch_op:
        batch_op.create_index('ix_handoff_shift_changes_ends', ['ends_at'], unique=False)

    op.create_table('handoff_shifts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('starts', sa.String(length=5), nullable=False),
    sa.Column('ends', sa.String(length=5), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_handoff_shifts_staff_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoff_shifts'))
    )
    with op.batch_alter_table('handoff_shifts', schema=None) as batch_op:
        batch_op.create_index('ix_handoff_shifts_weekday', ['weekday'], unique=False)

    op.create_table('handoff_callbacks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['handoff_cases.id'], name=op.f('fk_handoff_callbacks_case_id_handoff_cases'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['done_by'], ['staff_users.id'], name=op.f('fk_handoff_callbacks_done_by_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_handoff_callbacks_resident_id_residents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoff_callbacks'))
    )
    with op.batch_alter_table('handoff_callbacks', schema=None) as batch_op:
        batch_op.create_index('ix_handoff_callbacks_status', ['status'], unique=False)

    op.create_table('handoff_case_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('detail', sa.String(length=255), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['staff_users.id'], name=op.f('fk_handoff_case_events_actor_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['handoff_cases.id'], name=op.f('fk_handoff_case_events_case_id_handoff_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoff_case_events'))
    )
    with op.batch_alter_table('handoff_case_events', schema=None) as batch_op:
        batch_op.create_index('ix_handoff_case_events_case', ['case_id', 'at'], unique=False)

    op.create_table('handoff_followups',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('resident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['handoff_cases.id'], name=op.f('fk_handoff_followups_case_id_handoff_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_handoff_followups_resident_id_residents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoff_followups'))
    )
    with op.batch_alter_table('handoff_followups', schema=None) as batch_op:
        batch_op.create_index('ix_handoff_followups_due', ['sent_at', 'due_at'], unique=False)

    op.create_table('handoff_notes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('author_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['staff_users.id'], name=op.f('fk_handoff_notes_author_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['handoff_cases.id'], name=op.f('fk_handoff_notes_case_id_handoff_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoff_notes'))
    )
    with op.batch_alter_table('handoff_notes', schema=None) as batch_op:
        batch_op.create_index('ix_handoff_notes_case', ['case_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('handoff_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_handoff_notes_case')

    op.drop_table('handoff_notes')
    with op.batch_alter_table('handoff_followups', schema=None) as batch_op:
        batch_op.drop_index('ix_handoff_followups_due')

    op.drop_table('handoff_followups')
    with op.batch_alter_table('handoff_case_events', schema=None) as batch_op:
        batch_op.drop_index('ix_handoff_case_events_case')

    op.drop_table('handoff_case_events')
    with op.batch_alter_table('handoff_callbacks', schema=None) as batch_op:
        batch_op.drop_index('ix_handoff_callbacks_status')

    op.drop_table('handoff_callbacks')
    with op.batch_alter_table('handoff_shifts', schema=None) as batch_op:
        batch_op.drop_index('ix_handoff_shifts_weekday')

    op.drop_table('handoff_shifts')
    with op.batch_alter_table('handoff_shift_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_handoff_shift_changes_ends')

    op.drop_table('handoff_shift_changes')
    with op.batch_alter_table('handoff_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_handoff_cases_status')
        batch_op.drop_index('ix_handoff_cases_resident_status')

    op.drop_table('handoff_cases')
