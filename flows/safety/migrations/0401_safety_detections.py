"""safety: crisis detections and what was done about them

Revision ID: 0401_safety_detections
Revises: 0001_core
"""
from alembic import op
import sqlalchemy as sa


revision = '0401_safety_detections'
down_revision = '0001_core'
branch_labels = ('safety',)
depends_on = ('0002_staff',)

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('safety_detections',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('resident_id', BIG_ID, nullable=False),
    sa.Column('conversation_id', BIG_ID, nullable=False),
    sa.Column('message_id', BIG_ID, nullable=True),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('screened_level', sa.Integer(), nullable=True),
    sa.Column('matched', sa.JSON(), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('case_id', BIG_ID, nullable=True),
    sa.Column('false_alarm', sa.Boolean(), nullable=False),
    sa.Column('marked_by', BIG_ID, nullable=True),
    sa.Column('marked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['marked_by'], ['staff_users.id'], name=op.f('fk_safety_detections_marked_by_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_safety_detections_resident_id_residents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_detections'))
    )
    op.create_index('ix_safety_detections_case', 'safety_detections', ['case_id'], unique=False)
    op.create_index('ix_safety_detections_resident_time', 'safety_detections', ['resident_id', 'created_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_safety_detections_resident_time', table_name='safety_detections')
    op.drop_index('ix_safety_detections_case', table_name='safety_detections')
    op.drop_table('safety_detections')
