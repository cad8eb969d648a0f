"""When and how often a resident may be pushed to: quiet hours and the daily frequency cap."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.models import Campaign, CampaignRun, Delivery

CAP_WINDOW = timedelta(hours=24)
UNCAPPED = ("event_reminder",)  # reminders of something the resident signed up for


def in_quiet_hours(at: datetime, start: time, end: time, tz: ZoneInfo) -> bool:
    local = at.astimezone(tz).time()
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # the range wraps midnight


def quiet_until(at: datetime, start: time, end: time, tz: ZoneInfo) -> datetime | None:
    """When pushes may go out again, or None if `at` is outside quiet hours."""
    if not in_quiet_hours(at, start, end, tz):
        return None
    local = at.astimezone(tz)
    morning = datetime.combine(local.date(), end, tzinfo=tz)
    if morning <= local:
        morning += timedelta(days=1)
    return morning.astimezone(ZoneInfo("UTC"))


async def capped(session: AsyncSession, resident_ids: list[int], run_id: int, cap: int, now: datetime) -> set[int]:
    """Residents of this batch who already had `cap` campaign messages in the last 24 hours."""
    if cap <= 0 or not resident_ids:
        return set()
    rows = await session.execute(
        select(Delivery.resident_id).join(CampaignRun, CampaignRun.id == Delivery.run_id)
        .join(Campaign, Campaign.id == CampaignRun.campaign_id)
        .where(Delivery.resident_id.in_(resident_ids), Delivery.run_id != run_id,
               Delivery.status.in_(("queued", "sent", "uncertain")), Delivery.created_at >= now - CAP_WINDOW,
               Campaign.system.not_in(UNCAPPED))
        .group_by(Delivery.resident_id).having(func.count() >= cap))
    return {rid for (rid,) in rows}
