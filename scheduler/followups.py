"""Follow-up check-ins after a closed case: the scheduler's leader sends each one when it is due,
through the channel the counsellor chose at the close, and puts it on the counsellor's (or the
pool's) follow-up list in the console until someone marks it done.

A check-in days after the close usually falls outside the 48-hour customer-service window, so the
counsellor may pick the template message instead; a failed send is kept on the row and on the list.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from sqlalchemy import select, update

from bot import localtime
from bot.db import utcnow
from bot.values import Reply
from bot.wechat.api import WeChatAPIError
from handoff import cases, content, events
from handoff.models import FollowUp
from scheduler.outreach import Outreach

log = logging.getLogger(__name__)
CHECKIN_TEMPLATE = "FOLLOW_UP_CHECKIN"  # the template the city registers on the platform for check-ins


async def send_due_checkins(out: Outreach, at: str = "") -> list[int]:
    """Send every check-in due by `at` (ISO; default now) once, and tell the consoles about it."""
    now = localtime.aware(datetime.fromisoformat(at)).astimezone(timezone.utc) if at else utcnow()
    async with out.services.db() as session:
        due = list(await session.scalars(select(FollowUp).where(FollowUp.sent_at.is_(None), FollowUp.due_at <= now)
                                         .order_by(FollowUp.due_at)))
    sent = []
    for follow_up in due:
        async with out.services.db.begin() as session:  # claim it first: one leader sends it, once
            claimed = await session.execute(update(FollowUp).where(FollowUp.id == follow_up.id,
                                                                   FollowUp.sent_at.is_(None)).values(sent_at=now))
        if not claimed.rowcount:
            continue
        error = await _send(out, follow_up)
        if error:
            async with out.services.db.begin() as session:
                await session.execute(update(FollowUp).where(FollowUp.id == follow_up.id).values(error=error[:255]))
        log.info("follow-up check-in sent", extra={"case_id": follow_up.case_id, "channel": follow_up.channel,
                                                   "ok": not error})
        await events.publish(out.services.redis, "followup", case_id=follow_up.case_id,
                             counsellor_id=follow_up.staff_id, ok=not error)
        sent.append(follow_up.id)
    return sent


async def _send(out: Outreach, follow_up: FollowUp) -> str:
    """The check-in by the chosen channel; the error staff read, or "" when it went out."""
    services = out.services
    ref = await cases.resident_ref(services, follow_up.resident_id)
    text = content.say(services.knowledge, "followup_checkin", ref.language)
    if follow_up.channel != "template":
        [delivery] = await services.messenger.send(ref, [Reply(text=text)], sender="system")
        return delivery.error if not delivery.ok else ""
    try:
        await services.api.send_template(ref.openid, CHECKIN_TEMPLATE, {"first": text})
        error = ""
    except WeChatAPIError as err:
        error = f"{err.errcode} {err.errmsg}"
    await services.transcript.record_outbound(ref, [Reply(text=text)], delivery="failed" if error else "template",
                                              sender="system", error=error)
    return error
