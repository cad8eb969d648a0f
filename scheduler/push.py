"""One campaign push to one resident, by template or customer-service message, and what came of it.

The fan-out sends its claims with it, and the resend sends an uncertain template push again with
it, with the same client_msg_id.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.transcript import ResidentRef
from bot.wechat.api import NO_ANSWER, WeChatAPIError
from scheduler.audiences import Recipient
from scheduler.outreach import Outreach
from scheduler.render import Message

QUOTA = 45009
LOST_ANSWER_TRIES = 3  # a template send whose answer was lost is repeated with the same client_msg_id


@dataclass
class Claim:
    delivery_id: int
    recipient: Recipient
    message: Message


@dataclass
class Outcome:
    delivery_id: int
    status: str  # sent / failed / quota / uncertain
    error: str = ""
    msgid: str = ""


def client_msg_id(run_id: int, resident_id: int) -> str:
    """The same for every attempt at one resident in one run (the platform's de-duplication key)."""
    return f"xz-{run_id}-{resident_id}"


async def send_template(out: Outreach, item: Claim, run_id: int) -> Outcome:
    """A template push; a lost answer is asked again with the same client_msg_id (no second copy)."""
    message, r = item.message, item.recipient
    msg_id = client_msg_id(run_id, r.id)
    attempt = 1
    while True:
        try:
            sent = await out.services.api.send_template(r.openid, message.template_id, message.fields, message.url,
                                                        client_msg_id=msg_id)
            return Outcome(item.delivery_id, "sent", msgid=sent.msgid)
        except WeChatAPIError as err:
            if err.errcode != NO_ANSWER or attempt >= LOST_ANSWER_TRIES:
                return Outcome(item.delivery_id, _failure(err.errcode), f"{err.errcode} {err.errmsg}"[:255])
        attempt += 1


async def send_one(out: Outreach, item: Claim, conversations: dict[int, int], run_id: int) -> Outcome:
    message, r = item.message, item.recipient
    if message.channel == "template":
        return await send_template(out, item, run_id)
    ref = ResidentRef(r.id, r.openid, conversations.get(r.id, 0), r.language, False, True)
    if not ref.conversation_id:
        return Outcome(item.delivery_id, "failed", "no conversation: outside the 48-hour window")
    [result] = await out.services.messenger.send(ref, [message.reply], sender="system")
    if result.ok:
        return Outcome(item.delivery_id, "sent")
    return Outcome(item.delivery_id, _failure(result.errcode), result.error)


def _failure(errcode: int) -> str:
    """A send that did not succeed: the quota, a lost answer (it may have arrived), or a plain failure."""
    return "quota" if errcode == QUOTA else "uncertain" if errcode == NO_ANSWER else "failed"
