"""`/wechat`: verify, decrypt, parse, de-duplicate, run the turn, answer within the deadline.

Every failure of the sender's making is a 4xx decided in microseconds, logged without content;
every message we accept gets 200 with a reply or `success`, never a 500: with Redis unreachable
the answer comes from `bot.degraded`.
"""
from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

from bot import metrics
from bot.appkeys import CONFIG, CRISIS_WITHOUT_REDIS, CRYPTO, SERVICES
from bot.degraded import answer_without_redis
from bot.redis_conn import PATIENCE, REDIS_DOWN
from bot.turn import keep_retried, turn_with_deadline
from bot.values import Inbound, Reply
from bot.wechat import replies
from bot.wechat.parse import BadMessage, dedup_key, read_xml, to_inbound
from bot.wechat.security import signature_ok, timestamp_fresh

log = logging.getLogger(__name__)

PATH = "/wechat"
MAX_BODY = 64 * 1024
SUCCESS = "success"


def _refuse(status: int, reason: str) -> web.Response:
    metrics.REQUESTS.labels(outcome=f"refused_{status}").inc()
    log.info("webhook request refused", extra={"status": status, "reason": reason})
    return web.Response(status=status, text=reason)


def _authentic(request: web.Request) -> web.Response | None:
    config = request.app[CONFIG]
    q = request.query
    if not signature_ok(config.wechat_token, q.get("timestamp", ""), q.get("nonce", ""), q.get("signature", "")):
        return _refuse(403, "bad signature")
    if not timestamp_fresh(q.get("timestamp", ""), config.replay_window):
        return _refuse(403, "stale timestamp")
    return None


async def verify_url(request: web.Request) -> web.Response:
    """The platform's URL check: echo `echostr` when the signature is ours."""
    return _authentic(request) or web.Response(text=request.query.get("echostr", ""))


async def _read_body(request: web.Request) -> str:
    if (request.content_length or 0) > MAX_BODY:
        raise BadMessage("body too large")
    body = await request.content.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise BadMessage("body too large")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadMessage("body is not valid UTF-8") from None


def _decrypt(request: web.Request, body: str) -> str:
    crypto = request.app.get(CRYPTO)
    if crypto is None:
        raise BadMessage("encrypted message but no AES key configured")
    q = request.query
    envelope = read_xml(body, required=("Encrypt",))  # the envelope must be as safe as the message
    return crypto.decrypt_message({"Encrypt": envelope["Encrypt"]}, q.get("msg_signature", ""),  # parsed once
                                  q.get("timestamp", ""), q.get("nonce", ""))


async def receive(request: web.Request) -> web.Response:
    refused = _authentic(request)
    if refused:
        return refused
    encrypted = request.query.get("encrypt_type", "raw") == "aes"
    if not encrypted and CRYPTO in request.app:
        # The URL's signature does not cover the body: with a key set, only the encrypted envelope
        # (safe and compatible modes both send it) proves the platform wrote the message.
        return _refuse(403, "plaintext message refused: this account uses an EncodingAESKey")
    try:
        text = await _read_body(request)
        if encrypted:
            text = _decrypt(request, text)
        inbound = to_inbound(text)
    except BadMessage as exc:
        return _refuse(413 if "too large" in str(exc) else 400, str(exc))
    except (InvalidSignatureException, InvalidAppIdException):
        return _refuse(403, "bad message signature")
    except Exception as exc:  # undecryptable or malformed envelope
        return _refuse(400, f"unreadable message ({type(exc).__name__})")

    services = request.app[SERVICES]
    try:
        xml, outcome = await _turn_once(request, inbound, encrypted)
    except REDIS_DOWN as exc:
        log.warning("redis unavailable; answering without it", extra={"error": type(exc).__name__})
        reply = await answer_without_redis(services, inbound, request.app.get(CRISIS_WITHOUT_REDIS))
        xml, outcome = (_render(request, reply, inbound, encrypted), "reply") if reply else (SUCCESS, "success")
    return _answer(xml, outcome)


async def _turn_once(request: web.Request, inbound: Inbound, encrypted: bool) -> tuple[str, str]:
    """De-duplicate and run the turn; returns the answer and its outcome. Redis being down raises
    (its de-duplication, locks and spool are what a turn stands on); nothing else does."""
    services = request.app[SERVICES]
    key = dedup_key(inbound)
    tried = services.locks.trial(inbound.openid)  # one round trip claims, locks and reads (bot/stores/dedup.py)
    async with asyncio.timeout(PATIENCE):  # TimeoutError is an OSError: a hung Redis is a down one
        claim = await services.dedup.claim(key, inbound, lock=tried, first_writes=services.cs_window.opening(inbound),
                                           read=lambda pipe: services.read_ahead.queue(pipe, inbound.openid))
    if not claim.first:
        metrics.DEDUP_HITS.inc()
        answer = claim.answer
        if answer is None:  # the first try is unanswered: keep the message, then wait for its answer
            await keep_retried(services, inbound)
            async with asyncio.timeout(services.config.reply_deadline + PATIENCE):
                answer = await services.dedup.wait_answer(key, services.config.reply_deadline)
        # `success` only for a message that is written (or held in flight) and whose turn is in hand
        return answer or SUCCESS, "retry"

    try:
        reply, in_flight, handover = await turn_with_deadline(services, inbound, claim.in_flight, tried)
    except REDIS_DOWN:
        raise
    except Exception:
        log.exception("turn failed")
        reply, in_flight, handover = None, None, None
    xml = _render(request, reply, inbound, encrypted) if reply is not None else SUCCESS
    try:
        async with asyncio.timeout(PATIENCE):  # the turn's writes and lock released, its answer kept, entry settled
            await services.dedup.finish(key, xml, in_flight, before=handover.queue if handover else None)
    except REDIS_DOWN:  # the lock lapses; a retry's shortcut is lost; a drainer runs the turn once more, whole
        log.warning("redis unavailable; answer not kept for retries")
    return xml, "reply" if reply else "success"


def _render(request: web.Request, reply: Reply, inbound: Inbound, encrypted: bool) -> str:
    xml = replies.render(reply, to_openid=inbound.openid, from_account=inbound.account)
    if encrypted:
        xml = request.app[CRYPTO].encrypt_message(xml, request.query.get("nonce", ""))
    return xml


def _answer(body: str, outcome: str) -> web.Response:
    metrics.REQUESTS.labels(outcome=outcome).inc()
    return web.Response(text=body, content_type="text/plain" if body == SUCCESS else "application/xml")


def setup_routes(app: web.Application) -> None:
    app.router.add_get(PATH, verify_url)
    app.router.add_post(PATH, receive)
