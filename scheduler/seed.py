"""Demo content: the two system campaigns (event reminders, daily tip) and a sample audience.

Idempotent: each is created only when missing, found by its system name or audience name.
"""
from __future__ import annotations

from sqlalchemy import select

from scheduler.models import Audience, Campaign
from scheduler.outreach import Outreach

DAILY_TIP_AUDIENCE = "每日小贴士订阅者"
# Typed fields of the configured templates (knowledge/data/wechat_templates.yaml); a `thing` holds 20 characters.
EVENT_REMINDER = {"template_id": "EVENT_REMINDER", "fields": {
    "thing1": "{{ event.title|truncate(20, true, '…', 0) }}", "time2": "{{ event.starts_at }}",
    "thing3": "{{ event.place|truncate(20, true, '…', 0) }}"}}
DAILY_TIP = {"template_id": "DAILY_TIP", "url": "{{ tip.url }}", "fields": {
    "thing1": "{{ tip.title|truncate(20, true, '…', 0) }}", "thing2": "回复「小贴士」阅读全文"}}


async def seed(out: Outreach) -> None:
    async with out.services.db.begin() as session:
        audience = await session.scalar(select(Audience).where(Audience.name == DAILY_TIP_AUDIENCE))
        if audience is None:
            audience = Audience(name=DAILY_TIP_AUDIENCE, rule={"tags_any": ["daily_tip"]})
            session.add(audience)
            await session.flush()
        systems = set(await session.scalars(select(Campaign.system).where(Campaign.system != "")))
        if "event_reminder" not in systems:
            session.add(Campaign(name="活动提醒（前一天、前一小时）", system="event_reminder", channel="template",
                                 content=EVENT_REMINDER,
                                 schedule={"kind": "event", "before_minutes": [1440, 60]}))
        if "daily_tip" not in systems:
            session.add(Campaign(name="每日心理小贴士", system="daily_tip", channel="template", audience_id=audience.id,
                                 content=DAILY_TIP,
                                 schedule={"kind": "cron", "cron": "30 8 * * *"}))
