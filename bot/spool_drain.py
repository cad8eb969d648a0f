"""Write back what the database could not take during an outage, once it answers again."""
from __future__ import annotations

import asyncio
import logging

from bot.services import Services
from bot.turn import DATABASE_ERRORS, finish_spooled

log = logging.getLogger(__name__)


async def drain_once(services: Services) -> int:
    """Finish spooled turns in arrival order; stop at the first database failure. Returns how many."""
    done = 0
    while (entry := await services.spool.take()) is not None:
        inbound, replied = entry
        try:
            await finish_spooled(services, inbound, replied)
        except DATABASE_ERRORS:
            await services.spool.put_back(inbound, replied)
            break
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
