"""Pipeline stages at ORDER_PLATFORM_EVENTS: delivery reports and tags from QR scenes.

TEMPLATESENDJOBFINISH tells us, later, whether a template message reached the resident; it is
matched to its delivery by msgid (or, while the transport does not pass the event's MsgID on, to
the resident's latest template delivery still waiting for its report).
"""
from __future__ import annotations

import logging

from sqlalchemy import select, update

from bot.metrics import PUSHES
from bot.models import Resident
from bot.pipeline import Turn
from bot.services import Services
from scheduler.models import CampaignRun, Delivery
from bot.tags import add_tags

log = logging.getLogger(__name__)
SCENE_TAG = "scene:"


async def apply_report(services: Services, openid: str, msgid: str, status: str) -> bool:
    """Record the platform's report on a template message; True when a delivery matched."""
    async with services.db.begin() as session:
        query = select(Delivery).where(Delivery.status == "sent", Delivery.report == "")
        if msgid:
            query = query.where(Delivery.msgid == msgid)
        else:
            query = query.join(Resident, Resident.id == Delivery.resident_id).where(
                Resident.openid == openid, Delivery.msgid != "").order_by(Delivery.id.desc())
        delivery = await session.scalar(query.limit(1).with_for_update())
        if delivery is None:
            return False
        delivery.report = status[:64]
        counters = {"delivered": CampaignRun.delivered + 1} if status == "success" else {}
        if status != "success":
            delivery.status, delivery.error = "failed", f"platform report: {status}"[:255]
            counters = {"failed": CampaignRun.failed + 1, "sent": CampaignRun.sent - 1}
        await session.execute(update(CampaignRun).where(CampaignRun.id == delivery.run_id).values(**counters))
    PUSHES.labels(outcome="delivered" if status == "success" else "rejected").inc()
    return True


def platform_events_stage(services: Services):
    async def stage(turn: Turn):
        inbound = turn.inbound
        if inbound.kind != "event":
            return None
        if inbound.event == "templatesendjobfinish":
            matched = await apply_report(services, inbound.openid, inbound.msg_id, inbound.status)
            log.info("template delivery report", extra={"matched": matched, "report": inbound.status})
            return []  # the platform's report: nothing to say, and nothing for later stages
        if inbound.event in ("subscribe", "scan") and inbound.event_key and turn.resident.id:
            await add_tags(services.db, turn.resident.id, [SCENE_TAG + inbound.event_key[:58]])
        return None
    return stage
