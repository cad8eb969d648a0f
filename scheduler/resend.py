"""Template pushes left `uncertain` are sent again with the same client_msg_id, so nobody is missed.

A template send carries `client_msg_id`, one per (run, resident). The platform sends at most one
message per (openid, client_msg_id) within about ten minutes, so a send whose answer was lost (or
whose sender was killed mid-request) can be repeated: a copy that already arrived is dropped by the
platform. Past the window that guarantee is gone, so an uncertain claim older than RESEND_WITHIN
stays uncertain (a resident may miss one push, never gets two). Customer-service messages have no
such id: they stay at-most-once and are reported as uncertain.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.db import utcnow
from bot.metrics import PUSHES
from bot.models import Resident
from scheduler import content
from scheduler.audiences import Recipient
from scheduler.models import Campaign, CampaignRun, Delivery
from scheduler.outreach import Outreach
from scheduler.push import Claim, send_template
from scheduler.render import Renderer, RenderError

log = logging.getLogger(__name__)
RESEND_WITHIN = timedelta(minutes=8)  # the platform's de-duplication lasts about 10 minutes from the first send
TOO_LATE = "uncertain, and past the platform's 10-minute client_msg_id window: not resent so nobody gets two"
RESENT = "resent with the same client_msg_id after an uncertain send"


def resendable(channel: str) -> bool:
    return channel == "template"


async def _uncertain(out: Outreach, run_id: int) -> list[tuple[int, datetime, Recipient]]:
    async with out.services.db() as session:
        rows = await session.execute(
            select(Delivery.id, Delivery.created_at, Resident.id, Resident.openid, Resident.name, Resident.language,
                   Resident.area).join(Resident, Resident.id == Delivery.resident_id)
            .where(Delivery.run_id == run_id, Delivery.status == "uncertain", Delivery.error != TOO_LATE)
            .order_by(Delivery.id))
    return [(did, at, Recipient(*r)) for did, at, *r in rows.all()]


async def resend_uncertain(out: Outreach, run: CampaignRun, campaign: Campaign, renderer: Renderer) -> int:
    """Send this run's uncertain template claims again (same client_msg_id) while the platform still
    de-duplicates them; mark the older ones as past the window. Returns how many were sent."""
    if not resendable(campaign.channel):
        return 0
    now = utcnow()
    pending = await _uncertain(out, run.id)
    late = [did for did, at, _ in pending if at < now - RESEND_WITHIN]
    stations = await content.station_tags(out.services.db, [r.id for *_, r in pending])
    shared = run.context.get("shared", {})
    outcomes = []
    for did, at, recipient in pending:
        if did in late:
            continue
        try:
            message = renderer.render(content.resident_context(out.services.knowledge, recipient, stations.get(recipient.id), shared, now))
        except RenderError:
            continue  # it rendered when first sent; a content edit since then is not a reason to resend
        await out.bucket.acquire()
        outcomes.append(await send_template(out, Claim(did, recipient, message), run.id))
    sent = [o.delivery_id for o in outcomes if o.status == "sent"]
    failed = [o for o in outcomes if o.status == "failed"]
    async with out.services.db.begin() as session:
        if late:
            await session.execute(update(Delivery).where(Delivery.id.in_(late)).values(error=TOO_LATE))
        if sent or failed:
            await session.execute(update(Delivery), [
                {"id": o.delivery_id, "status": o.status, "msgid": o.msgid, "sent_at": utcnow() if o.status == "sent"
                 else None, "error": RESENT if o.status == "sent" else o.error} for o in outcomes
                if o.status in ("sent", "failed")])
            await session.execute(update(CampaignRun).where(CampaignRun.id == run.id).values(
                sent=CampaignRun.sent + len(sent), failed=CampaignRun.failed + len(failed),
                uncertain=CampaignRun.uncertain - len(sent) - len(failed)))
    run.sent, run.failed = run.sent + len(sent), run.failed + len(failed)
    run.uncertain -= len(sent) + len(failed)
    if sent:
        PUSHES.labels(outcome="resent").inc(len(sent))
    if pending:
        log.info("campaign run resent uncertain template pushes",
                 extra={"run_id": run.id, "resent": len(sent), "failed": len(failed), "too_late": len(late)})
    return len(sent)
