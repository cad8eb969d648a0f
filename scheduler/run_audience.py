"""Who a campaign run reaches: the campaign's saved audience rule, narrowed for a relative schedule to
the residents due that day and for an event reminder to the event's registrants. The sender streams
these residents; the admin pages count them."""
from __future__ import annotations

from datetime import date

from bot.db import utcnow
from scheduler import audiences
from scheduler.audiences import AudienceRule, DueDate
from scheduler.models import Audience, Campaign, CampaignRun
from scheduler.events import registrants_condition
from scheduler.outreach import Outreach


async def audience_conditions(out: Outreach, campaign: Campaign, run: CampaignRun) -> list:
    rule = AudienceRule()
    if campaign.audience_id is not None:
        async with out.services.db() as session:
            saved = await session.get(Audience, campaign.audience_id)
        rule = AudienceRule.from_dict(saved.rule if saved else {})
    where = audiences.conditions(rule, now=utcnow(), cs_only=campaign.channel != "template")
    due = run.context.get("due")
    if due:
        where.append(audiences.due_condition(
            DueDate(due["anchor"], int(due["offset_days"]), int(due.get("every_days") or 0),
                    out.settings.timezone, due.get("tag", "")), date.fromisoformat(due["day"])))
    if run.context.get("event_id") is not None:
        where.append(registrants_condition(int(run.context["event_id"])))
    return where
