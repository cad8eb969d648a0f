"""review: cases by conversation, for deciding access per case

Revision ID: 0503_cases_by_conversation
Revises: 0502_people_words_index

Review decides which messages a user may read from the cases of each message's conversation
(handoff/review/access.py), once per message row a search walks: without this index each row
would scan every case.
"""
from alembic import op


revision = '0503_cases_by_conversation'
down_revision = '0502_people_words_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_review_cases_conversation', 'handoff_cases', ['conversation_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_review_cases_conversation', table_name='handoff_cases')
