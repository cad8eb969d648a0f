"""review: the word index covers what people wrote, not the service's own replies

Revision ID: 0502_people_words_index
Revises: 0501_review_core

The bot's replies are long fixed texts (menus, scales, tips): indexing their bigrams made each reply
insert cost about 1.3 ms of PostgreSQL CPU, the largest single cost of a turn under load, for words no
reviewer looks for there. Residents' and counsellors' messages stay indexed; the search asks the same.
"""
from alembic import op


revision = '0502_people_words_index'
down_revision = '0501_review_core'
branch_labels = None
depends_on = None

PEOPLE = "sender IN ('resident', 'counsellor')"  # handoff/review/search.py WORD_SENDERS


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_review_messages_bigrams")
        op.execute("CREATE INDEX ix_review_messages_bigrams ON messages USING gin (review_bigrams(content)) "
                   f"WHERE {PEOPLE}")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_review_messages_bigrams")
        op.execute("CREATE INDEX ix_review_messages_bigrams ON messages USING gin (review_bigrams(content))")
