"""Write back what the database could not take during an outage, once it answers again."""
from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bot.services import Services
from bot.turn import finish_spooled

log = logging.getLogger(__name__)


def is_outage(exc: BaseException) -> bool:
    """The database is unreachable, as opposed to refusing what one entry holds."""
    if isinstance(exc, (OSError, ConnectionError, asyncio.TimeoutError, OperationalError, InterfaceError)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


async def drain_once(services: Services) -> int:
    """Finish spooled turns in arrival order; stop while the database is down. Returns how many.

    An entry the database refuses while up (a bug, or data it cannot hold) is parked, not put
    back: first in line, it would otherwise hold every message behind it, crises included."""
    done = 0
    while (entry := await services.spool.take()) is not None:
        inbound, replied = entry
        try:
            await finish_spooled(services, inbound, replied)
        except Exception as exc:
            if is_outage(exc):
                await services.spool.put_back(inbound, replied)
                break
            await services.spool.park(inbound, replied)
            log.error("spooled message refused by the database; parked", extra={
                "kind": inbound.kind, "error": type(exc).__name__})
            continue
        done += 1
    if done:
        log.info("spooled messages written back", extra={"count": done})
    return done


async def keep_draining(services: Services, interval: float = 2.0) -> None:
    while True:
        try:
            if await services.spool.size():
                await drain_once(services)
        except Exception:  # Redis down too: try again next round
            log.warning("spool drain failed; retrying", exc_info=True)
        await asyncio.sleep(interval)
