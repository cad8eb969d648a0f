"""Transfers that cannot drop a resident: offered, then accepted, refused or timed out.

A counsellor offers a case to a named colleague or to the supervisor pool, only while the receiver
is on duty and under their cap. Until someone accepts, the case stays the sender's (they keep
writing) and their console shows it as "transferring to X". A refusal or 60 s without an answer
hands it back to the sender with a notice; it never falls silently into the queue.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from bot.auth.users import Staff
from bot.db import utcnow
from bot.models import StaffUser
from bot.services import Services
from handoff import cases, events
from handoff.models import Case
from handoff.offers import Offer, TransferOffers
from handoff.queue import CaseQueue, now_ms
from handoff.roster import on_duty

log = logging.getLogger(__name__)

POOL = "pool"  # the timeline's word for "any supervisor on duty"


@dataclass(frozen=True)
class Receiver:
    staff_id: int
    name: str
    roles: frozenset[str]


async def receivers(services: Services, role: str | None = None) -> list[Receiver]:
    """Who may be offered a case now: on duty (for `role`, if given) and below their cap."""
    async with services.db() as session:
        duty = await on_duty(session, utcnow(), role=role)
        staff = {d.staff_id for d in duty}
        users = {u.id: u for u in await session.scalars(select(StaffUser).where(StaffUser.id.in_(staff)))}
    load = await _loads(services)
    found = []
    for staff_id in sorted(staff):
        user = users.get(staff_id)
        if user is None or not user.active:
            continue
        if load.get(staff_id, 0) < (user.max_chats if user.max_chats > 0 else cases.DEFAULT_CAP):
            found.append(Receiver(staff_id, user.display_name or user.username,
                                  frozenset(r for r in user.roles.split(",") if r)))
    return found


async def _loads(services: Services) -> dict[int, int]:
    load: dict[int, int] = {}
    for held in (await CaseQueue(services.redis).claims()).values():
        load[held.counsellor_id] = load.get(held.counsellor_id, 0) + 1
    return load


async def offer(services: Services, case: Case, sender_id: int, to: int | None) -> Offer:
    """Offer the sender's active case to `to` (a staff id) or, with None, to the supervisor pool."""
    if case.status != "active" or case.counsellor_id != sender_id:
        raise cases.CaseError("只能转接你正在接待的个案")
    if to == sender_id:
        raise cases.CaseError("请选择另一位咨询师或督导")
    if to is None:
        if not [r for r in await receivers(services, "supervisor") if r.staff_id != sender_id]:
            raise cases.CaseError("现在没有值班且未满接待上限的督导")
    elif to not in {r.staff_id for r in await receivers(services) if {"counsellor", "supervisor"} & r.roles}:
        raise cases.CaseError("只能转接给正在值班且未满接待上限的咨询师或督导")
    made = Offer(case.id, sender_id, to, now_ms())
    if not await TransferOffers(services.redis).put(made):
        raise cases.CaseError("这个个案正在转接中，请等待对方回应")
    async with services.db.begin() as session:
        await cases.log_event(session, case.id, "transfer_offered", sender_id,
                              POOL if to is None else f"{sender_id}->{to}")
    await events.publish(services.redis, "transfer_offered", from_id=sender_id, to_id=to,
                         expires_ms=made.expires_ms, **cases.case_fields(case))
    return made


async def accept(services: Services, case_id: int, user: Staff) -> Case:
    """The receiver takes the case: the offer is theirs to take once, and their cap is checked again."""
    store = TransferOffers(services.redis)
    waiting = await store.get(case_id)
    if waiting is None or not waiting.is_for(user.id, user.roles):
        raise cases.CaseError("这个转接已经结束（已被接受、拒绝或超时）")
    if now_ms() >= waiting.expires_ms:
        await _hand_back(services, waiting, "transfer_expired", None)
        raise cases.CaseError("这个转接已超过 60 秒，个案已退回原咨询师")
    if not await store.take(waiting):
        raise cases.CaseError("这个转接已经结束（已被接受、拒绝或超时）")
    try:
        return await cases.move(services, case_id, user.id, waiting.from_id, user.id, "transferred",
                                await cases.cap_of(services, user.id))
    except cases.CaseError as err:
        await _returned(services, waiting, "transfer_refused", user.id, str(err))
        raise


async def refuse(services: Services, case_id: int, user: Staff) -> None:
    store = TransferOffers(services.redis)
    waiting = await store.get(case_id)
    if waiting is None or not waiting.is_for(user.id, user.roles):
        raise cases.CaseError("这个转接已经结束（已被接受、拒绝或超时）")
    if not await _hand_back(services, waiting, "transfer_refused", user.id):
        raise cases.CaseError("这个转接已经结束（已被接受、拒绝或超时）")


async def expire(services: Services, now: int | None = None) -> list[int]:
    """Offers past their 60 s go back to their senders (the sweep calls this every pass)."""
    now = now or now_ms()
    back = []
    for waiting in await TransferOffers(services.redis).all():
        if now >= waiting.expires_ms and await _hand_back(services, waiting, "transfer_expired", None):
            back.append(waiting.case_id)
    return back


async def _hand_back(services: Services, waiting: Offer, kind: str, actor_id: int | None) -> bool:
    if not await TransferOffers(services.redis).take(waiting):
        return False
    await _returned(services, waiting, kind, actor_id, "")
    return True


async def _returned(services: Services, waiting: Offer, kind: str, actor_id: int | None, why: str) -> None:
    """The timeline says so and the sender's console is told; the case never left them."""
    async with services.db.begin() as session:
        await cases.log_event(session, waiting.case_id, kind, actor_id)
        case = await session.get(Case, waiting.case_id)
    name = await cases.staff_name(services, actor_id) if actor_id else ""
    await events.publish(services.redis, "transfer_returned", why=kind, by=name, error=why,
                         from_id=waiting.from_id, to_id=waiting.to_id, **cases.case_fields(case))
    log.info("transfer handed back", extra={"case_id": waiting.case_id, "kind": kind})
