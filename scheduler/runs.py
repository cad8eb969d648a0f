"""Campaign runs: opened once per occurrence, paused, cancelled, and their progress (the send itself
starts and resumes in scheduler.launch).

An occurrence names a firing ("2025-03-01T09:00", "due:2025-03-01", "event:12:60"), and the
(campaign, occurrence) pair is unique, so two schedulers firing the same job open one run.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot import localtime
from bot.db import utcnow
from scheduler.models import Campaign, CampaignRun
from scheduler.outreach import Outreach

log = logging.getLogger(__name__)
ACTIVE = ("pending", "running", "paused")
# What staff can do with a run in each state; a finished or cancelled run offers nothing.
ACTIONS = {"pending": ("pause", "cancel"), "running": ("pause", "cancel"), "paused": ("resume", "cancel")}


def progress_key(run_id: int) -> str:
    return f"xz:campaign:progress:{run_id}"


async def open_run(out: Outreach, campaign_id: int, occurrence: str, context: dict | None = None) -> int | None:
    """Create the run for this occurrence; None when it already exists (someone fired it first)."""
    try:
        async with out.services.db.begin() as session:
            run = CampaignRun(campaign_id=campaign_id, occurrence=occurrence[:64], context=context or {},
                              status="pending", created_at=utcnow())
            session.add(run)
            await session.flush()
            run_id = run.id
    except IntegrityError:
        return None
    log.info("campaign run opened", extra={"campaign_id": campaign_id, "run_id": run_id})
    return run_id


async def set_status(out: Outreach, run_id: int, status: str, *, reason: str = "",
                     resume_at: datetime | None = None, only_from: tuple[str, ...] = ACTIVE) -> bool:
    values = {"status": status, "pause_reason": reason[:255], "resume_at": resume_at}
    if status in ("done", "cancelled"):
        values["finished_at"] = utcnow()
    async with out.services.db.begin() as session:
        result = await session.execute(update(CampaignRun).where(CampaignRun.id == run_id,
                                                                 CampaignRun.status.in_(only_from)).values(**values))
    return result.rowcount == 1


async def pause(out: Outreach, run_id: int) -> bool:
    return await set_status(out, run_id, "paused", reason="paused by staff", only_from=("pending", "running"))


async def cancel(out: Outreach, run_id: int) -> bool:
    return await set_status(out, run_id, "cancelled", reason="cancelled by staff")


@dataclass(frozen=True)
class Progress:
    run_id: int
    campaign: str
    occurrence: str
    status: str
    total: int
    sent: int
    failed: int
    skipped: int
    uncertain: int  # may have arrived; template pushes are resent within the platform's window
    delivered: int
    rate: float  # messages a second in the current stint
    reason: str
    resume_at: datetime | None = None  # when a paused run goes on by itself (quiet hours, quota)

    @property
    def actions(self) -> tuple[str, ...]:
        return ACTIONS.get(self.status, ())

    @property
    def left(self) -> int:
        return max(0, self.total - self.sent - self.failed - self.skipped - self.uncertain)

    @property
    def eta_seconds(self) -> float | None:
        if self.status != "running" or self.rate <= 0:
            return None
        return self.left / self.rate

    def as_dict(self) -> dict:
        return {**self.__dict__, "resume_at": localtime.iso(self.resume_at), "left": self.left,
                "eta_seconds": self.eta_seconds, "actions": list(self.actions)}


async def progress(out: Outreach, run_id: int) -> Progress | None:
    async with out.services.db() as session:
        row = (await session.execute(select(CampaignRun, Campaign.name).join(Campaign)
                                     .where(CampaignRun.id == run_id))).first()
    if row is None:
        return None
    run, name = row
    stint = await out.services.redis.hgetall(progress_key(run_id))
    rate = 0.0
    if stint and run.status == "running":
        elapsed = time.time() - float(stint["at"])
        done = run.sent + run.failed + run.skipped + run.uncertain - int(stint["base"])
        rate = done / elapsed if elapsed > 0 else 0.0
    resume_at = run.resume_at if run.status == "paused" else None
    return Progress(run.id, name, run.occurrence, run.status, run.total, run.sent, run.failed, run.skipped,
                    run.uncertain, run.delivered, round(rate, 1), run.pause_reason, resume_at)
