"""Make Redis agree with the database again: the record wins, so no case is ever lost.

Covers Redis restarting or being flushed (the queue and claims are rebuilt), a worker dying
between the Redis claim and the database update (the claim is dropped after a grace period and
the case goes back to its old place), and the reverse (a claim the database has but Redis lost
is restored).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select

from bot.services import Services
from handoff.cases import OPEN
from handoff.models import Case
from handoff.queue import CaseQueue, now_ms

log = logging.getLogger(__name__)

CLAIM_GRACE_MS = 15_000  # a claim may sit in Redis this long before its database update lands


@dataclass
class Repairs:
    queued: list[int] = field(default_factory=list)  # waiting in the record, missing from the queue
    unclaimed: list[int] = field(default_factory=list)  # claimed in Redis only: back to the queue
    restored: list[int] = field(default_factory=list)  # claimed in the record, missing from Redis
    dropped: list[int] = field(default_factory=list)  # in Redis but closed in the record

    @property
    def any(self) -> bool:
        return bool(self.queued or self.unclaimed or self.restored or self.dropped)


async def reconcile(services: Services, claim_grace_ms: int = CLAIM_GRACE_MS) -> Repairs:
    queue = CaseQueue(services.redis)
    repairs = Repairs()
    waiting_in_redis = set(await queue.waiting())
    claims = await queue.claims()
    async with services.db() as session:
        open_cases = {c.id: c for c in await session.scalars(select(Case).where(Case.status.in_(OPEN)))}
    now = now_ms()
    for case in open_cases.values():
        held = claims.get(case.id)
        if case.status == "waiting":
            if held is not None and now - held.since_ms < claim_grace_ms:
                continue  # a claim in flight: its database update is on its way
            if held is not None or case.id not in waiting_in_redis:
                await queue.requeue(case.id, case.level, case.queued_at)
                (repairs.unclaimed if held is not None else repairs.queued).append(case.id)
        elif held is None or held.counsellor_id != case.counsellor_id or case.id in waiting_in_redis:
            since = int(case.claimed_at.timestamp() * 1000) if case.claimed_at else None
            await queue.hold(case.id, case.counsellor_id, since)
            repairs.restored.append(case.id)
    stray = (waiting_in_redis | set(claims)) - set(open_cases)
    if stray:
        async with services.db() as session:  # look again: a case created since the first read is not stray
            still_open = set(await session.scalars(select(Case.id).where(Case.id.in_(stray),
                                                                       Case.status.in_(OPEN))))
        for case_id in stray - still_open:
            await queue.remove(case_id)
            repairs.dropped.append(case_id)
    if repairs.any:
        log.warning("handoff queue repaired from the database", extra={
            "queued": len(repairs.queued), "unclaimed": len(repairs.unclaimed),
            "restored": len(repairs.restored), "dropped": len(repairs.dropped)})
    return repairs
