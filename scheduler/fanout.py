"""The fan-out: stream a run's audience in batches, claim a delivery row per resident, then send.

Claim before send: the (run, resident) row is inserted (ON CONFLICT DO NOTHING) before the
message goes out, so a restarted run skips everyone it already claimed. Just before its HTTP
request a claim's id joins the run's in-flight set (scheduler.inflight). A claim left `queued` by
a worker that died is then settled by the truth: never attempted, it is released and sent once by
the resumed run; possibly sent, it becomes `uncertain`. An uncertain template push is sent again
with the same client_msg_id, which the platform de-duplicates (scheduler.resend); an uncertain
customer-service push is never resent, so a resident may miss it but never gets two. Quota errors
(45009) release the claim and pause the run until later.
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.db import utcnow
from bot.metrics import PUSHES
from bot.models import Conversation
from scheduler import audiences, content, policy, resend, runs
from scheduler.audiences import Recipient
from scheduler.inflight import InFlight
from scheduler.lease import Lease
from scheduler.models import Campaign, CampaignRun, Delivery
from scheduler.outreach import Outreach
from scheduler.push import Claim, Outcome, send_one
from scheduler.render import Renderer, RenderError, compile_checked
from scheduler.run_audience import audience_conditions

log = logging.getLogger(__name__)
UNCERTAIN = "the sender stopped while the request was in flight; it may have arrived"


def _insert(dialect: str):
    return pg_insert if dialect == "postgresql" else sqlite_insert


async def claim(out: Outreach, run: CampaignRun, campaign: Campaign, renderer: Renderer,
                batch: list[Recipient]) -> tuple[list[Claim], dict[str, int]]:
    """Insert this batch's delivery rows; return the claims this worker won and what it skipped."""
    now = utcnow()
    stations = await content.station_tags(out.services.db, [r.id for r in batch])
    shared = run.context.get("shared", {})
    async with out.services.db.begin() as session:
        cap = out.settings.frequency_cap if campaign.system not in policy.UNCAPPED else 0
        over_cap = await policy.capped(session, [r.id for r in batch], run.id, cap, now)
        rows, messages = [], {}
        for r in batch:
            row = {"run_id": run.id, "resident_id": r.id, "status": "queued", "error": "", "msgid": "",
                   "report": "", "created_at": now}
            if r.id in over_cap:
                row.update(status="skipped", error="frequency cap")
            else:
                try:
                    messages[r.id] = renderer.render(content.resident_context(out.services.knowledge, r, stations.get(r.id), shared, now))
                except RenderError as exc:
                    row.update(status="failed", error=str(exc)[:255])
            rows.append(row)
        insert = _insert(session.bind.dialect.name)(Delivery).on_conflict_do_nothing(
            index_elements=["run_id", "resident_id"]).returning(Delivery.id, Delivery.resident_id, Delivery.status)
        won = (await session.execute(insert, rows)).all()
    by_id = {r.id: r for r in batch}
    claims = [Claim(did, by_id[rid], messages[rid]) for did, rid, status in won if status == "queued"]
    counts = {"skipped": sum(1 for *_, s in won if s == "skipped"), "failed": sum(1 for *_, s in won if s == "failed")}
    return claims, counts


async def _conversations(out: Outreach, resident_ids: list[int]) -> dict[int, int]:
    async with out.services.db() as session:
        rows = await session.execute(select(Conversation.resident_id, Conversation.id)
                                     .where(Conversation.resident_id.in_(resident_ids)).order_by(Conversation.id))
    return dict(rows.all())  # the last (newest) conversation wins


async def send_all(out: Outreach, run_id: int, claims: list[Claim], inflight: InFlight, started: set[int],
                   done: list[Outcome]) -> None:
    """Send with bounded concurrency. `started` (in the in-flight set, request about to go) and
    `done` fill as it goes, so whoever stops it knows which claims were never tried (safe to
    release) and which were in flight (uncertain)."""
    conversations = await _conversations(out, [c.recipient.id for c in claims]) \
        if any(c.message.channel != "template" for c in claims) else {}
    queue = iter(claims)
    stop = False

    async def worker() -> None:
        nonlocal stop
        for item in queue:
            if stop:
                return
            await out.bucket.acquire()
            if stop:
                return
            await inflight.add(item.delivery_id)
            started.add(item.delivery_id)
            outcome = await send_one(out, item, conversations, run_id)
            done.append(outcome)
            if outcome.status == "quota":
                stop = True  # the platform says stop; the untried claims are released

    await asyncio.gather(*(worker() for _ in range(min(out.settings.concurrency, len(claims)) or 1)))


def _count(**outcomes: int) -> None:
    for outcome, n in outcomes.items():
        if n:
            PUSHES.labels(outcome=outcome).inc(n)


async def record(out: Outreach, run_id: int, claims: list[Claim], inflight: InFlight, started: set[int],
                 outcomes: list[Outcome], counts: dict[str, int], cursor: int) -> bool:
    """Write outcomes and the run's counters in one transaction. Claims never tried go back (deleted),
    so a resumed run sends them; claims stopped mid-request are uncertain. True when the quota was reached."""
    released = [c.delivery_id for c in claims if c.delivery_id not in started]
    released += [o.delivery_id for o in outcomes if o.status == "quota"]
    answered = {o.delivery_id for o in outcomes if o.status != "uncertain"}
    uncertain = [i for i in started if i not in answered]
    now = utcnow()
    updates = [{"id": o.delivery_id, "status": o.status, "error": o.error, "msgid": o.msgid,
                "sent_at": now if o.status == "sent" else None} for o in outcomes if o.delivery_id in answered
               and o.status != "quota"]
    updates += [{"id": i, "status": "uncertain", "error": UNCERTAIN, "msgid": "", "sent_at": None} for i in uncertain]
    sent = sum(1 for o in outcomes if o.status == "sent")
    failed = counts.get("failed", 0) + sum(1 for o in outcomes if o.status == "failed")
    async with out.services.db.begin() as session:
        if updates:
            await session.execute(update(Delivery), updates)
        if released:
            await session.execute(Delivery.__table__.delete().where(Delivery.id.in_(released)))
        values = {"sent": CampaignRun.sent + sent, "failed": CampaignRun.failed + failed,
                  "skipped": CampaignRun.skipped + counts.get("skipped", 0),
                  "uncertain": CampaignRun.uncertain + len(uncertain)}
        if not released:
            values["cursor"] = cursor
        await session.execute(update(CampaignRun).where(CampaignRun.id == run_id).values(**values))
    await inflight.discard(list(started))
    _count(sent=sent, failed=failed, skipped=counts.get("skipped", 0), uncertain=len(uncertain),
           quota=sum(1 for o in outcomes if o.status == "quota"))
    return any(o.status == "quota" for o in outcomes)


async def _settle_left_behind(session, run: CampaignRun, inflight: InFlight) -> None:
    """Claims a dead worker left queued: uncertain if their request may have gone out, else released."""
    queued = list(await session.scalars(select(Delivery.id).where(Delivery.run_id == run.id,
                                                                  Delivery.status == "queued")))
    if not queued:
        return
    remembered = await inflight.remembered()
    uncertain = [i for i in queued if remembered.may_have_been_sent(i)]
    never_tried = [i for i in queued if not remembered.may_have_been_sent(i)]
    if uncertain:
        await session.execute(update(Delivery).where(Delivery.id.in_(uncertain))
                              .values(status="uncertain", error=UNCERTAIN))
    if never_tried:
        await session.execute(Delivery.__table__.delete().where(Delivery.id.in_(never_tried)))
    run.uncertain += len(uncertain)
    _count(uncertain=len(uncertain))
    log.info("campaign run settled a stopped sender's claims",
             extra={"run_id": run.id, "uncertain": len(uncertain), "released": len(never_tried)})


async def _prepare(out: Outreach, run_id: int, inflight: InFlight) -> tuple[CampaignRun, Campaign] | None:
    """Load the run, settle claims a dead worker left behind, mark it running; None if nothing to do."""
    async with out.services.db.begin() as session:
        row = (await session.execute(select(CampaignRun, Campaign).join(Campaign)
                                     .where(CampaignRun.id == run_id))).first()
        if row is None or row[0].status not in ("pending", "running"):
            return None
        run, campaign = row
        await _settle_left_behind(session, run, inflight)
        run.status, run.pause_reason, run.resume_at = "running", "", None
        run.started_at = run.started_at or utcnow()
    await inflight.start()
    if not run.total:
        total = await audiences.count(out.services.db, await audience_conditions(out, campaign, run))
        async with out.services.db.begin() as session:
            await session.execute(update(CampaignRun).where(CampaignRun.id == run_id).values(total=total))
        run.total = total
    await out.services.redis.hset(runs.progress_key(run_id), mapping={
        "at": time.time(), "base": run.sent + run.failed + run.skipped + run.uncertain})
    return run, campaign


async def _status(out: Outreach, run_id: int) -> str:
    async with out.services.db() as session:
        return await session.scalar(select(CampaignRun.status).where(CampaignRun.id == run_id))


async def _hold_if_quiet(out: Outreach, run_id: int) -> bool:
    s = out.settings
    until = policy.quiet_until(utcnow(), s.quiet_start, s.quiet_end, s.timezone)
    if until is None:
        return False
    await runs.set_status(out, run_id, "paused", reason="quiet hours", resume_at=until)
    return True


async def _keep_lease(lease: Lease, every: float, owner: asyncio.Task) -> None:
    while True:
        await asyncio.sleep(every)
        if not await lease.renew():
            log.warning("campaign run lease lost; stopping this worker's send")
            owner.cancel()
            return


async def execute(out: Outreach, run_id: int) -> str:
    """Send a run to the end (or until paused, cancelled, quiet hours or quota); returns its status."""
    lease = Lease(out.services.redis, f"run:{run_id}", out.settings.lease_seconds)
    if not await lease.acquire():
        return "elsewhere"
    keeper = out.services.tasks.start(_keep_lease(lease, out.settings.lease_seconds / 3, asyncio.current_task()),
                                      name=f"campaign-lease:{run_id}")
    try:
        return await _send_run(out, run_id)
    finally:
        keeper.cancel()
        await lease.release()


async def _send_run(out: Outreach, run_id: int) -> str:
    inflight = InFlight(out.services.redis, run_id)
    prepared = await _prepare(out, run_id, inflight)
    if prepared is None:
        return await _status(out, run_id) or "missing"
    run, campaign = prepared
    try:
        renderer = await compile_checked(campaign.channel, campaign.content)
    except RenderError as exc:
        await runs.set_status(out, run_id, "paused", reason=f"content: {exc}")
        return "paused"
    try:
        where = await audience_conditions(out, campaign, run)
    except (ValueError, OverflowError) as exc:  # an audience rule saved before rules were checked
        await runs.set_status(out, run_id, "paused", reason=f"audience: {exc}"[:255])
        return "paused"
    if run.uncertain:
        if await _hold_if_quiet(out, run_id):
            return "paused"
        await resend.resend_uncertain(out, run, campaign, renderer)
    async for batch in audiences.batches(out.services.db, where, after=run.cursor, size=out.settings.batch_size):
        status = await _status(out, run_id)
        if status != "running":
            return status
        if await _hold_if_quiet(out, run_id):
            return "paused"
        claims, counts = await claim(out, run, campaign, renderer, batch)
        started: set[int] = set()
        outcomes: list[Outcome] = []
        try:
            await send_all(out, run_id, claims, inflight, started, outcomes)
        finally:  # on cancellation too: what was sent is recorded before the task ends
            quota = await asyncio.shield(record(out, run_id, claims, inflight, started, outcomes, counts,
                                                batch[-1].id))
        if quota:
            resume_at = utcnow() + timedelta(seconds=out.settings.quota_pause_seconds)
            await runs.set_status(out, run_id, "paused", reason="platform quota reached (45009)", resume_at=resume_at)
            return "paused"
    await runs.set_status(out, run_id, "done", only_from=("running",))
    await inflight.drop()
    log.info("campaign run finished", extra={"run_id": run_id})
    return "done"
