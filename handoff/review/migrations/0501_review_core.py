"""review: audit trail, quality reviews, retention holds, data-subject requests, search indexes

Revision ID: 0501_review_core
Revises: 0001_core

On PostgreSQL the word search uses a GIN index over each message's character bigrams: pg_trgm
does extract trigrams from Chinese under C.UTF-8, but a two-character word (失眠, 抑郁 — most
Chinese words) has no trigram, so its index scan returns every row. See handoff/review/search.py.
"""
from alembic import op
import sqlalchemy as sa


revision = '0501_review_core'
down_revision = '0001_core'
branch_labels = ('review',)
depends_on = ('0201_handoff_cases', '0002_staff')

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

BIGRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION review_bigrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT substr(lower(t), i, 2)), '{}'::text[])
  FROM generate_series(1, char_length(t) - 1) AS i
$$
"""


def upgrade() -> None:
    op.create_table('review_audit',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('staff_id', BIG_ID, nullable=True),
    sa.Column('staff_name', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('target_type', sa.String(length=32), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_audit'))
    )
    op.create_index('ix_review_audit_time', 'review_audit', ['created_at'])
    op.create_index('ix_review_audit_staff_time', 'review_audit', ['staff_id', 'created_at'])
    op.create_index('ix_review_audit_target', 'review_audit', ['target_type', 'target_id'])

    op.create_table('review_quality',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('case_id', BIG_ID, nullable=False),
    sa.Column('counsellor_id', BIG_ID, nullable=True),
    sa.Column('reviewer_id', BIG_ID, nullable=True),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comments', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['handoff_cases.id'], name=op.f('fk_review_quality_case_id_handoff_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['counsellor_id'], ['staff_users.id'], name=op.f('fk_review_quality_counsellor_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['staff_users.id'], name=op.f('fk_review_quality_reviewer_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_quality'))
    )
    op.create_index('ix_review_quality_case', 'review_quality', ['case_id'])
    op.create_index('ix_review_quality_counsellor', 'review_quality', ['counsellor_id'])

    op.create_table('review_holds',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('case_id', BIG_ID, nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('held_by', BIG_ID, nullable=True),
    sa.Column('held_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_by', BIG_ID, nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['handoff_cases.id'], name=op.f('fk_review_holds_case_id_handoff_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['held_by'], ['staff_users.id'], name=op.f('fk_review_holds_held_by_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['released_by'], ['staff_users.id'], name=op.f('fk_review_holds_released_by_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_holds'))
    )
    op.create_index('ix_review_holds_case', 'review_holds', ['case_id', 'released_at'])

    op.create_table('review_data_requests',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('resident_id', BIG_ID, nullable=True),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', BIG_ID, nullable=True),
    sa.ForeignKeyConstraint(['decided_by'], ['staff_users.id'], name=op.f('fk_review_data_requests_decided_by_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_review_data_requests_resident_id_residents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_data_requests'))
    )
    op.create_index('ix_review_data_requests_status', 'review_data_requests', ['status', 'created_at'])

    op.create_index('ix_review_messages_time', 'messages', ['created_at', 'id'])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(BIGRAMS_FUNCTION)
        op.execute("CREATE INDEX ix_review_messages_bigrams ON messages USING gin (review_bigrams(content))")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_review_messages_bigrams")
        op.execute("DROP FUNCTION IF EXISTS review_bigrams(text)")
    op.drop_index('ix_review_messages_time', table_name='messages')
    op.drop_table('review_data_requests')
    op.drop_table('review_holds')
    op.drop_table('review_quality')
    op.drop_table('review_audit')
