"""One bot turn under the platform's 5-second rule.

The turn runs as an owned task. If it finishes before the deadline its replies go back in the
HTTP answer (passive reply); if not, the platform gets `success` at once and the replies follow
through the customer-service API when ready. Either way the turn runs exactly once.
"""
from __future__ import annotations

import asyncio
import logging
import time
from contextlib import nullcontext

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot import metrics
from bot.language import CHOSEN, CHOSEN_TAG, reply_language
from bot.models import ResidentTag
from bot.pipeline import Turn
from bot.services import Services
from bot.stores import cs_window, read_ahead
from bot.stores.locks import Handover, LockTry
from bot.stores.spool import Taken
from bot.transcript import ResidentRef, is_transcribed
from bot.values import Inbound, Reply

log = logging.getLogger(__name__)

DATABASE_ERRORS = (SQLAlchemyError, OSError, ConnectionError, asyncio.TimeoutError)


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


def busy_reply(services: Services, lang: str) -> Reply:
    """What a resident hears while the database is down: we have it, and the numbers to call now."""
    return Reply(text=services.knowledge.texts.get("system.busy", lang))


async def run_turn(services: Services, inbound: Inbound, tried: LockTry | None = None,
                   handover: Handover | None = None) -> tuple[ResidentRef | None, list[Reply]]:
    """Lock the resident, record what they sent, run the pipeline. `tried`: the lock tried with the
    message's claim, which also opened the allowance (`bot.wechat.webhook`); `handover`: where a turn
    that ends without an error leaves its closing writes and the lock's release, for its caller to send.

    If the database cannot take the message, it is spooled in Redis and the resident still gets an
    answer with the emergency numbers; the spool drainer finishes the turn when the database is back.
    """
    started = time.perf_counter()

    def open_window(pipe) -> None:  # sent with the lock: the platform delivered a message, written or not
        services.cs_window.open_in(pipe, inbound)

    turn = read_ahead.TurnValues()
    async with services.locks.hold(inbound.openid, read=lambda pipe: services.read_ahead.queue(pipe, inbound.openid),
                                   also=None if tried else open_window, closing=turn.flush, tried=tried,
                                   handover=handover) as values:
        with read_ahead.for_turn(turn, values):
            try:
                ref = await _record(services, inbound, window_opened=True)
            except DATABASE_ERRORS:
                log.warning("database unavailable; message spooled", extra={"kind": inbound.kind})
                reply = busy_reply(services, reply_language(inbound.text))
                await services.spool.hold(inbound, reply.text)
                metrics.SPOOLED.inc()
                return None, [reply]
            replies = await _respond(services, inbound, ref)
    metrics.TURN_SECONDS.observe(time.perf_counter() - started)
    return ref, replies


async def finish_spooled(services: Services, inbound: Inbound, replied: str) -> None:
    """Write a spooled message and run its turn; the replies go out through the API."""
    async with services.locks.hold(inbound.openid):
        ref = await _record(services, inbound, late=True, already_replied=replied)
        replies = await _respond(services, inbound, ref)
    if ref is not None:
        await services.transcript.record_noted(ref)
    if ref is not None and replies:
        await services.messenger.send(ref, replies)


async def keep_retried(services: Services, inbound: Inbound) -> None:
    """A retry of a message whose first try is still unanswered writes the message itself: that try's
    worker may have died before writing it. Idempotent (one row per resident and MsgId); with the
    database down the message still waits in flight in Redis for a drainer."""
    if not inbound.msg_id or inbound.kind == "event":  # only a platform message id makes the write idempotent
        return
    try:
        await services.transcript.record_inbound(inbound)
    except DATABASE_ERRORS:
        log.warning("database unavailable; a retried message stays in flight", extra={"kind": inbound.kind})


async def _record(services: Services, inbound: Inbound, *, late: bool = False, already_replied: str = "",
                  window_opened: bool = False) -> ResidentRef | None:
    if not is_transcribed(inbound):
        return None
    ref = await services.transcript.record_inbound(inbound, late=late)
    if already_replied:
        await services.transcript.record_outbound(ref, [Reply(text=already_replied)], delivery="passive")
    if cs_window.opens(inbound) and not window_opened:
        await services.cs_window.opened(inbound.openid, by_message=cs_window.by_message(inbound))
    return ref


async def _respond(services: Services, inbound: Inbound, ref: ResidentRef | None) -> list[Reply]:
    """Run the stages; a failing stage still leaves the resident with an answer and the numbers."""
    turn_ref = ref or ResidentRef(0, inbound.openid, 0, "zh-Hans", False, True)
    lang = await _language(services, inbound, turn_ref)
    try:
        return await services.pipeline.run(Turn(inbound, turn_ref, lang))
    except (RedisConnectionError, RedisTimeoutError):
        raise  # Redis went away mid-turn: the webhook answers without it, a crisis included (bot/degraded.py)
    except Exception:
        log.exception("turn failed", extra={"kind": inbound.kind})
        metrics.TURN_FAILURES.inc()
        return [busy_reply(services, lang)] if ref is not None else []


async def _language(services: Services, inbound: Inbound, ref: ResidentRef) -> str:
    """The turn's reply language. A message written before (a retry after its worker died) comes
    back without what was read with the resident: whether they chose a language is then asked, and
    only when the message would change it (unanswered, they keep their own)."""
    if CHOSEN in ref.facts or ref.is_new or not ref.id or reply_language(inbound.text, ref) == ref.language:
        return reply_language(inbound.text, ref)
    try:
        async with services.autocommit() as session:
            chosen = await session.scalar(select(ResidentTag.id).where(
                ResidentTag.resident_id == ref.id, ResidentTag.tag == CHOSEN_TAG))
    except DATABASE_ERRORS:
        return ref.language
    return reply_language(inbound.text, ref, chosen=chosen is not None)


async def turn_with_deadline(services: Services, inbound: Inbound, in_flight: Taken | None = None,
                             tried: LockTry | None = None) -> tuple[Reply | None, Taken | None, Handover | None]:
    """Run the turn; return the passive reply if it is ready in time, else None (answer `success`).

    `in_flight` is the message's entry among the spool's taken ones: its lease is renewed while the
    turn runs. When the passive reply is ready in time it comes back with the entry and with the
    turn's closing writes and lock's release (a `Handover`), which the caller sends together with
    keeping its answer and settling the entry (one round trip, `DedupStore.finish`); otherwise the
    turn sends them and settles the entry itself once its stages have run. Either way only a worker
    that died leaves the turn to a drainer, and the lock to lapse."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future = loop.create_future()

    async def work() -> None:
        handover = services.locks.handover()
        try:
            async with services.spool.working_on(in_flight) if in_flight else nullcontext():
                ref, replies = await run_turn(services, inbound, tried, handover)
        except Exception as exc:
            if not answer.done():
                answer.set_exception(exc)
            raise
        passive, later = split_for_passive(replies)
        if answer.done():  # the handler gave up waiting: everything goes through the API
            later, passive = replies, None
            await handover.send()
            if ref is not None:  # what the turn noted is kept before its entry is settled
                await services.transcript.record_noted(ref)
            if in_flight:
                await _settle(services, in_flight)
        else:
            answer.set_result((passive, in_flight, handover))
            if ref is not None:  # the passive reply, if any, with what the turn noted: one statement
                await services.transcript.record_outbound(ref, [passive] if passive else [], delivery="passive")
        if later and ref is not None:
            await services.messenger.send(ref, later)

    services.tasks.start(work(), name=f"turn:{inbound.openid[-6:]}")
    try:
        await asyncio.wait({answer}, timeout=services.config.reply_deadline)
    finally:
        answer.cancel()  # nothing once the turn answered; else the turn sends all it has itself
    if answer.cancelled():
        metrics.DEADLINE_MISSES.inc()
        log.warning("turn missed the passive deadline; replying via customer-service API")
        return None, None, None
    return answer.result()


async def _settle(services: Services, in_flight: Taken) -> None:
    try:
        await services.spool.done(in_flight)
    except (RedisConnectionError, RedisTimeoutError):  # its lease lapses: a drainer runs the turn once more
        log.warning("redis unavailable; a finished turn stays in flight")
