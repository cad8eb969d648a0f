"""Send replies through the customer-service API and record each one, with its failure if any.

Used whenever a passive reply is not possible: a turn past the deadline, a counsellor's message,
a follow-up. Failures are returned, not swallowed, so the console can show them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.stores.cs_window import CsWindow
from bot.transcript import ResidentRef, Transcript
from bot.values import Reply
from bot.wechat.api import WINDOW_CLOSED, WINDOW_SPENT, WeChatAPI, WeChatAPIError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    ok: bool
    error: str = ""  # a short reason staff can read
    errcode: int = 0


class Messenger:
    def __init__(self, api: WeChatAPI, window: CsWindow, transcript: Transcript) -> None:
        self._api = api
        self._window = window
        self._transcript = transcript

    async def send(self, ref: ResidentRef, replies: list[Reply], *, sender: str = "bot",
                   author_id: int | None = None) -> list[Delivery]:
        results = []
        for reply in replies:
            result = await self._send_one(ref.openid, reply)
            await self._transcript.record_outbound(ref, [reply], delivery="cs" if result.ok else "failed",
                                                   sender=sender, author_id=author_id, error=result.error)
            results.append(result)
        return results

    async def _send_one(self, openid: str, reply: Reply) -> Delivery:
        if not await self._window.take(openid):
            return Delivery(False, "48-hour window closed or its message allowance spent", WINDOW_CLOSED)
        try:
            await self._api.send_reply(openid, reply)
        except WeChatAPIError as err:
            if err.errcode in (WINDOW_CLOSED, WINDOW_SPENT):
                await self._window.opened(openid, by_message=False)  # trust the platform: nothing left
            return Delivery(False, f"{err.errcode} {err.errmsg}"[:255], err.errcode)
        return Delivery(True)
