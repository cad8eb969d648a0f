"""APScheduler on one worker at a time: the holder of the leader lease runs it, the others wait.

Jobs live in the database (SQLAlchemy job store on a sync URL derived from XZ_DATABASE_URL), so
they survive restarts and a new leader picks them up. The job store is synchronous: its few,
small queries run on the event loop, which is what APScheduler 3 does.
"""
from __future__ import annotations

import asyncio
import functools
import logging
from datetime import datetime

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import create_engine, select

from scheduler import jobs
from scheduler.lease import Lease
from scheduler.models import JOBS_TABLE, Campaign
from scheduler.outreach import Outreach

log = logging.getLogger(__name__)
LEADER = "scheduler-leader"
MISFIRE_GRACE = 3600  # a job due while no leader ran still fires if at most an hour late
RETENTION_CRON = "30 3 * * *"  # local time: a quiet hour, after the night's pushes are held


def sync_url(database_url: str) -> str:
    """The job store's synchronous URL for the same database."""
    if database_url.startswith("sqlite+aiosqlite://"):
        return "sqlite://" + database_url[len("sqlite+aiosqlite://"):]
    if database_url.startswith("postgresql+asyncpg://"):
        return "postgresql+psycopg://" + database_url[len("postgresql+asyncpg://"):]
    raise ValueError(f"no synchronous driver known for {database_url.split(':', 1)[0]}")


class _Bound:
    """A job as the executor sees it, with the Outreach bound as the function's first argument."""

    def __init__(self, job, out: Outreach) -> None:
        self._job = job
        self.func = functools.partial(job.func, out)

    def __getattr__(self, name):
        return getattr(self._job, name)

    def __str__(self) -> str:
        return str(self._job)


class OutreachExecutor(AsyncIOExecutor):
    def __init__(self, out: Outreach) -> None:
        super().__init__()
        self._out = out

    def _do_submit_job(self, job, run_times):
        super()._do_submit_job(_Bound(job, self._out), run_times)


def campaign_trigger(schedule: dict, tz):
    kind = schedule.get("kind", "manual")
    if kind == "once":
        at = datetime.fromisoformat(schedule["at"])
        return DateTrigger(at if at.tzinfo else at.replace(tzinfo=tz))
    if kind == "cron":
        return CronTrigger.from_crontab(schedule["cron"], timezone=tz)
    if kind == "relative":
        hour, minute = (int(x) for x in str(schedule.get("at") or "09:00").split(":"))
        return CronTrigger(hour=hour, minute=minute, timezone=tz)
    return None  # manual and event campaigns have no job of their own


def validate_schedule(schedule: dict, tz) -> None:
    """Raise ValueError naming what is wrong, before an admin's schedule reaches the job store."""
    kind = schedule.get("kind", "manual")
    if kind not in ("manual", "once", "cron", "relative", "event"):
        raise ValueError(f"unknown schedule kind {kind!r}")
    if kind == "relative":
        from scheduler.audiences import ANCHORS, ENROLMENT
        from bot.tags import check_tag
        if schedule.get("anchor") not in ANCHORS:
            raise ValueError(f"anchor must be one of {', '.join(ANCHORS)}")
        if schedule.get("anchor") == ENROLMENT:
            if not str(schedule.get("tag") or "").strip():
                raise ValueError("an enrolment schedule needs its programme tag (e.g. students)")
            check_tag(str(schedule["tag"]))
        if int(schedule.get("offset_days") or 0) < 0 or int(schedule.get("every_days") or 0) < 0:
            raise ValueError("days must not be negative")
    if kind == "event" and not all(int(m) > 0 for m in schedule.get("before_minutes") or [0]):
        raise ValueError("before_minutes must be positive numbers")
    campaign_trigger(schedule, tz)


class Engine:
    """Contends for the leader lease; while it holds it, runs APScheduler and keeps jobs in step
    with the campaigns table."""

    def __init__(self, out: Outreach, database_url: str) -> None:
        self.out = out
        self._url = sync_url(database_url)
        self._lease = Lease(out.services.redis, LEADER, out.settings.lease_seconds)
        self.scheduler: AsyncIOScheduler | None = None
        self._sync_engine = None

    @property
    def leading(self) -> bool:
        return self.scheduler is not None

    async def run(self) -> None:
        every = self.out.settings.lease_seconds / 3
        try:
            while True:
                if self.leading:
                    if not await self._lease.renew():
                        log.warning("scheduler leadership lost")
                        self._stop_scheduler()
                    else:
                        await self._sync_safely()
                elif await self._lease.acquire():
                    log.info("scheduler leadership taken")
                    try:
                        await self._start_scheduler()
                    except Exception:
                        log.exception("scheduler could not start; giving the leadership back")
                        self._stop_scheduler()
                        await self._lease.release()
                await asyncio.sleep(every)
        finally:
            if self.leading:
                self._stop_scheduler()
                await self._lease.release()

    async def _start_scheduler(self) -> None:
        self._sync_engine = engine = create_engine(self._url, connect_args={"timeout": 30} if self._url.startswith("sqlite") else {})
        s = self.out.settings
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
            executors={"default": OutreachExecutor(self.out)},
            job_defaults={"coalesce": True, "misfire_grace_time": MISFIRE_GRACE, "max_instances": 1},
            timezone=s.timezone)
        self.scheduler.start()
        self.scheduler.add_job(jobs.scheduled, IntervalTrigger(seconds=s.sweep_seconds), args=("sweep_runs",),
                               id="sweep_runs", replace_existing=True)
        self.scheduler.add_job(jobs.scheduled, IntervalTrigger(minutes=5), args=("event_reminders",),
                               id="event_reminders", replace_existing=True)
        self.scheduler.add_job(jobs.scheduled, IntervalTrigger(minutes=1), args=("follow_ups",),
                               id="follow_ups", replace_existing=True)
        self.scheduler.add_job(jobs.scheduled, CronTrigger.from_crontab(RETENTION_CRON, timezone=s.timezone),
                               args=("retention",), id="retention", replace_existing=True)
        await self.sync_jobs()

    async def _sync_safely(self) -> None:
        try:
            await self.sync_jobs()
        except Exception:  # a bad schedule must not cost the leadership loop
            log.exception("could not bring scheduled jobs in step with campaigns")

    def _stop_scheduler(self) -> None:
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        if self._sync_engine is not None:
            self._sync_engine.dispose()
            self._sync_engine = None

    async def sync_jobs(self) -> None:
        """Make the job store hold exactly one job per scheduled, active campaign."""
        if self.scheduler is None:
            return
        async with self.out.services.db() as session:
            campaigns = list(await session.scalars(select(Campaign)))
        wanted = {}
        for c in campaigns:
            trigger = campaign_trigger(c.schedule, self.out.settings.timezone) if c.active else None
            if trigger is not None:
                wanted[f"campaign:{c.id}"] = (c, trigger)
        for job in self.scheduler.get_jobs():
            if job.id.startswith("campaign:") and job.id not in wanted:
                job.remove()
        for job_id, (c, trigger) in wanted.items():
            await self._ensure(job_id, c, trigger)

    async def _ensure(self, job_id: str, campaign: Campaign, trigger) -> None:
        signature = repr(sorted(campaign.schedule.items()))
        job = self.scheduler.get_job(job_id)
        if job is not None and job.name == signature:
            return
        kind = campaign.schedule.get("kind")
        if kind == "once":
            occurrence = "once:" + campaign.schedule["at"]
            if job is None and await self._fired(campaign.id, occurrence):
                return  # it ran; the store dropped the job, and it must not come back
            self.scheduler.add_job(jobs.scheduled, trigger, args=("fire_campaign", campaign.id, occurrence), id=job_id,
                                   name=signature, replace_existing=True)
        elif kind == "relative":
            self.scheduler.add_job(jobs.scheduled, trigger, args=("fire_due", campaign.id), id=job_id, name=signature,
                                   replace_existing=True)
        else:
            self.scheduler.add_job(jobs.scheduled, trigger, args=("fire_campaign", campaign.id), id=job_id,
                                   name=signature,
                                   replace_existing=True)

    async def _fired(self, campaign_id: int, occurrence: str) -> bool:
        from scheduler.models import CampaignRun

        async with self.out.services.db() as session:
            return await session.scalar(select(CampaignRun.id).where(
                CampaignRun.campaign_id == campaign_id, CampaignRun.occurrence == occurrence)) is not None
