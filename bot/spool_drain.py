"""Write back what the database could not take during an outage, once it answers again."""
from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.services import Services
from bot.stores.locks import ResidentBusy
from bot.turn import finish_spooled

log = logging.getLogger(__name__)


def is_outage(exc: BaseException) -> bool:
    """The database is unreachable or too busy to take the entry now (its pool exhausted, the
    resident's lock held by a long turn), as opposed to refusing what the entry holds."""
    if isinstance(exc, (OSError, ConnectionError, asyncio.TimeoutError, OperationalError, InterfaceError,
                        PoolTimeout, ResidentBusy)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


async def drain_once(services: Services) -> int:
    """Finish spooled turns in arrival order, and turns whose worker died mid-turn (their in-flight
    lease lapsed); stop while the database is down. Returns how many.

    Entries whose drainer died are given back first. An entry leaves the spool only once written
    and its turn run, so a drainer killed in between loses nothing. An entry the database refuses
    while up (a bug, or data it cannot hold) is parked, not put back: first in line, it would
    otherwise hold every message behind it, crises included."""
    spool = services.spool
    await spool.give_back_lapsed()
    done = 0
    while (taken := await spool.take()) is not None:
        try:
            async with spool.working_on(taken):
                await finish_spooled(services, taken.inbound, taken.replied)
        except Exception as exc:
            if is_outage(exc):
                await spool.put_back(taken)
                break
            await spool.park(taken)
            log.error("spooled message refused by the database; parked", extra={
                "kind": taken.inbound.kind, "error": type(exc).__name__})
            continue
        await spool.done(taken)
        if taken.dedup_key:  # a turn whose worker died: its retries may stop waiting
            await services.dedup.finish(taken.dedup_key, "success")
        done += 1
    if done:
        log.info("spooled messages written back", extra={"count": done})
    return done


async def keep_draining(services: Services, interval: float = 2.0) -> None:
    while True:
        try:
            await drain_once(services)
        except Exception:  # Redis down too: try again next round
            log.warning("spool drain failed; retrying", exc_info=True)
        await asyncio.sleep(interval)
