"""One bot turn under the platform's 5-second rule.

The turn runs as an owned task. If it finishes before the deadline its replies go back in the
HTTP answer (passive reply); if not, the platform gets `success` at once and the replies follow
through the customer-service API when ready. Either way the turn runs exactly once.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from bot import metrics
from bot.pipeline import Turn
from bot.services import Services
from bot.transcript import ResidentRef, is_transcribed
from bot.values import Inbound, Reply

log = logging.getLogger(__name__)

RESIDENT_INITIATED = {"subscribe", "scan", "click", "view", "location"}


@dataclass(frozen=True)
class Outcome:
    ref: ResidentRef | None
    passive: Reply | None  # goes back in the HTTP answer
    later: list[Reply]  # goes through the customer-service API


def split_for_passive(replies: list[Reply]) -> tuple[Reply | None, list[Reply]]:
    """A passive reply holds one message: join consecutive texts, send the rest later."""
    if not replies:
        return None, []
    texts = []
    for reply in replies:
        if not reply.text:
            break
        texts.append(reply.text)
    if texts:
        return Reply(text="\n\n".join(texts)), replies[len(texts):]
    return replies[0], replies[1:]


async def run_turn(services: Services, inbound: Inbound) -> tuple[ResidentRef | None, list[Reply]]:
    """Lock the resident, record what they sent, run the pipeline."""
    started = time.perf_counter()
    async with services.locks.hold(inbound.openid):
        ref = await services.transcript.record_inbound(inbound) if is_transcribed(inbound) else None
        if ref is not None and inbound.event != "unsubscribe":
            await services.cs_window.opened(
                inbound.openid, by_message=inbound.kind != "event" or inbound.event not in RESIDENT_INITIATED)
        if ref is None:
            ref = ResidentRef(0, inbound.openid, 0, "zh-Hans", False, True)
        replies = await services.pipeline.run(Turn(inbound, ref))
    metrics.TURN_SECONDS.observe(time.perf_counter() - started)
    return (ref if ref.id else None), replies


async def turn_with_deadline(services: Services, inbound: Inbound) -> Reply | None:
    """Run the turn; return the passive reply if it is ready in time, else None (answer `success`)."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future = loop.create_future()

    async def work() -> None:
        try:
            ref, replies = await run_turn(services, inbound)
        except Exception as exc:
            if not answer.done():
                answer.set_exception(exc)
            raise
        passive, later = split_for_passive(replies)
        if answer.done():  # the handler gave up waiting: everything goes through the API
            later, passive = replies, None
        else:
            answer.set_result(passive)
            if ref is not None and passive is not None:
                await services.transcript.record_outbound(ref, [passive], delivery="passive")
        if later and ref is not None:
            await services.messenger.send(ref, later)

    services.tasks.start(work(), name=f"turn:{inbound.openid[-6:]}")
    done, _ = await asyncio.wait({answer}, timeout=services.config.reply_deadline)
    if not done:
        answer.cancel()
        metrics.DEADLINE_MISSES.inc()
        log.warning("turn missed the passive deadline; replying via customer-service API")
        return None
    return answer.result()
