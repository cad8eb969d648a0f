"""scheduler: the seeded system campaigns move from first/remark to the templates' typed fields

The platform no longer shows `first` and `remark` (May 2023), and a template's content is now
checked against knowledge/data/wechat_templates.yaml, so the event reminder and daily tip seeded
before would pause on a content error. Campaigns an admin wrote are left as they are: their run
says what to change.

Revision ID: 0303_typed_template_fields
Revises: 0302_uncertain_deliveries
"""
from alembic import op
import sqlalchemy as sa

revision = "0303_typed_template_fields"
down_revision = "0302_uncertain_deliveries"
branch_labels = None
depends_on = None

# As scheduler/seed.py writes them today (copied: a migration does not follow later edits).
TYPED = {
    "event_reminder": {"template_id": "EVENT_REMINDER", "fields": {
        "thing1": "{{ event.title|truncate(20, true, '…', 0) }}", "time2": "{{ event.starts_at }}",
        "thing3": "{{ event.place|truncate(20, true, '…', 0) }}"}},
    "daily_tip": {"template_id": "DAILY_TIP", "url": "{{ tip.url }}", "fields": {
        "thing1": "{{ tip.title|truncate(20, true, '…', 0) }}", "thing2": "回复「小贴士」阅读全文"}},
}
campaigns = sa.table("campaigns", sa.column("id", sa.BigInteger), sa.column("system", sa.String),
                     sa.column("channel", sa.String), sa.column("content", sa.JSON))


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(campaigns.c.id, campaigns.c.system, campaigns.c.content).where(
        campaigns.c.system.in_(list(TYPED)), campaigns.c.channel == "template")).all()
    for campaign_id, system, content in rows:
        fields = (content or {}).get("fields") or {}
        if {"first", "remark"} & set(fields):
            conn.execute(campaigns.update().where(campaigns.c.id == campaign_id).values(content=TYPED[system]))


def downgrade() -> None:
    pass  # the old content is what the platform no longer shows; there is nothing worth restoring
