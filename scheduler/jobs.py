"""Scheduled jobs: plain async functions with their inputs as arguments (a test calls them directly).

The engine's executor passes the Outreach (services and settings) first; the job store keeps
only the rest (ids and names), so a job survives a restart and runs on whichever worker leads.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from bot.db import utcnow
from knowledge.library import Knowledge
from scheduler import content, launch, runs
from scheduler.lease import Lease
from scheduler.models import Campaign, CampaignRun
from scheduler.outreach import Outreach

log = logging.getLogger(__name__)
CATCH_UP_DAYS = 7  # a relative schedule that missed days (scheduler down) catches up this far back
LOOKAHEAD = timedelta(minutes=10)  # event reminders fire when due within this tolerance


def occurrence_now(out: Outreach, at: datetime | None = None) -> str:
    """A cron or one-off firing is named by its local minute, the same for every worker."""
    return (at or utcnow()).astimezone(out.settings.timezone).strftime("%Y-%m-%dT%H:%M")


def shared_context(knowledge: Knowledge, campaign: Campaign, day: date) -> dict:
    if campaign.system == "daily_tip":
        return {"tip": content.tip_context(content.tip_of_the_day(day, knowledge.tips))}
    return {}


async def _campaign(out: Outreach, campaign_id: int) -> Campaign | None:
    async with out.services.db() as session:
        campaign = await session.get(Campaign, campaign_id)
    return campaign if campaign is not None and campaign.active else None


async def fire_campaign(out: Outreach, campaign_id: int, occurrence: str = "") -> int | None:
    """Open and start this firing's run; a second firing of the same occurrence does nothing."""
    campaign = await _campaign(out, campaign_id)
    if campaign is None:
        return None
    today = utcnow().astimezone(out.settings.timezone).date()
    run_id = await runs.open_run(out, campaign_id, occurrence or occurrence_now(out),
                                 {"shared": shared_context(out.services.knowledge, campaign, today)})
    if run_id is not None:
        launch.start(out, run_id)
    return run_id


async def fire_due(out: Outreach, campaign_id: int, today: str = "") -> list[int]:
    """Relative schedule: one run per local day, to residents whose own date makes them due that day.
    Days missed since the last run (up to a week) are caught up, each as its own occurrence."""
    campaign = await _campaign(out, campaign_id)
    if campaign is None:
        return []
    day = date.fromisoformat(today) if today else utcnow().astimezone(out.settings.timezone).date()
    async with out.services.db() as session:
        last = await session.scalar(select(func.max(CampaignRun.occurrence)).where(
            CampaignRun.campaign_id == campaign_id, CampaignRun.occurrence.startswith("due:")))
    first = max(day - timedelta(days=CATCH_UP_DAYS - 1),
                date.fromisoformat(last[4:]) + timedelta(days=1) if last else day)
    opened = []
    schedule = campaign.schedule
    for n in range((day - first).days + 1):
        due_day = first + timedelta(days=n)
        due = {"anchor": schedule["anchor"], "offset_days": int(schedule.get("offset_days") or 0),
               "every_days": int(schedule.get("every_days") or 0), "tag": schedule.get("tag", ""),
               "day": due_day.isoformat()}
        run_id = await runs.open_run(out, campaign_id, f"due:{due_day.isoformat()}", {
            "due": due, "shared": {"assessment_due": due_day.isoformat(), **shared_context(out.services.knowledge, campaign, due_day)}})
        if run_id is not None:
            launch.start(out, run_id)
            opened.append(run_id)
    return opened


async def event_reminders(out: Outreach) -> list[int]:
    """For each event campaign and each of its offsets ("1440, 60 minutes before"), open the run
    of every event whose reminder time has come and that has not started yet."""
    try:
        from flows.models import Event
    except ImportError:
        return []
    from scheduler.events import event_context

    now = utcnow()
    async with out.services.db() as session:
        campaigns = list(await session.scalars(select(Campaign).where(Campaign.active.is_(True))))
        campaigns = [c for c in campaigns if c.schedule.get("kind") == "event"]
        horizon = max((m for c in campaigns for m in c.schedule.get("before_minutes", [])), default=0)
        events = list(await session.scalars(select(Event).where(
            Event.cancelled.is_(False), Event.starts_at > now,
            Event.starts_at <= now + timedelta(minutes=horizon) + LOOKAHEAD)))
    opened = []
    for campaign in campaigns:
        for event in events:
            for minutes in campaign.schedule.get("before_minutes", []):
                if event.starts_at - timedelta(minutes=minutes) > now + LOOKAHEAD:
                    continue
                if event.starts_at - now < timedelta(minutes=minutes) / 2:
                    continue  # too late for this reminder; a later, shorter one will do
                run_id = await runs.open_run(out, campaign.id, f"event:{event.id}:{minutes}", {
                    "event_id": event.id, "shared": {"event": event_context(out.services.knowledge, event)}})
                if run_id is not None:
                    launch.start(out, run_id)
                    opened.append(run_id)
    return opened


async def sweep_runs(out: Outreach) -> list[int]:
    """Resume runs whose pause has ended (quiet hours, quota) and runs whose worker died."""
    now = utcnow()
    async with out.services.db() as session:
        rows = (await session.execute(select(CampaignRun.id, CampaignRun.status, CampaignRun.resume_at).where(
            CampaignRun.status.in_(("pending", "running", "paused"))))).all()
    resumed = []
    for run_id, status, resume_at in rows:
        if status == "paused":
            if resume_at is None or resume_at > now:
                continue
            if await launch.resume(out, run_id):
                resumed.append(run_id)
        elif not await Lease(out.services.redis, f"run:{run_id}", 1).held_by_anyone():
            launch.start(out, run_id)  # orphaned: its worker died (the lease ran out)
            resumed.append(run_id)
    return resumed


async def retention(out: Outreach, at: str = "") -> dict:
    """Transcript retention (handoff.review) once a day on the leader, so a city needs no cron entry
    of its own; `at` (ISO) stands for now. Periods and mode are the configuration's (XZ_RETENTION_*, checked at start)."""
    try:
        from handoff.review.retention import apply_retention
    except ImportError:  # the review package is not installed
        return {}
    now = datetime.fromisoformat(at) if at else utcnow()
    return (await apply_retention(out.services, now)).as_dict()


async def follow_ups(out: Outreach, at: str = "") -> list[int]:
    """Check-ins due after closed cases (scheduler.followups), when the handoff package is installed."""
    try:
        from scheduler.followups import send_due_checkins
    except ImportError:
        return []
    return await send_due_checkins(out, at)


JOBS = {"fire_campaign": fire_campaign, "fire_due": fire_due, "event_reminders": event_reminders,
        "sweep_runs": sweep_runs, "retention": retention, "follow_ups": follow_ups}


async def scheduled(*args):
    """What the job store holds: a job name and its arguments. The executor puts the Outreach
    first, which the job store must never see (it is not data)."""
    out, name, *rest = args
    return await JOBS[name](out, *rest)
