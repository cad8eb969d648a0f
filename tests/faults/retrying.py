"""The platform's retry rule, for fault tests: the same message (same MsgId) again after a failure
or a timeout, three times at most (WeChat waits about 5 s between tries)."""
from __future__ import annotations

import asyncio
from collections import Counter

import aiohttp
from sqlalchemy import select

from bot.models import Message
from tests.platform import Answer, Platform, message_xml

PLATFORM_TIMEOUT = 5.0
RETRIES = 3


class RetryingPlatform(Platform):
    """`clients`: where each try goes (the last one takes every later try), as a balancer in front
    of several workers would route a retry away from one that stopped answering."""

    def __init__(self, clients, config, *, gap: float = 5.0) -> None:
        clients = clients if isinstance(clients, list) else [clients]
        super().__init__(clients[0], config)
        self.clients = clients
        self.gap = gap  # seconds between a failed try and the next one
        self.tries: Counter[str] = Counter()

    async def try_once(self, xml: str, attempt: int = 0) -> Answer | None:
        """One try as the platform makes it: None when it got no usable answer in time."""
        query, body = self.envelope(xml)
        client = self.clients[min(attempt, len(self.clients) - 1)]
        try:
            resp = await client.post("/wechat", params=query, data=body,
                                          timeout=aiohttp.ClientTimeout(total=PLATFORM_TIMEOUT))
            text = await resp.text()
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return None
        if resp.status != 200:
            return None
        return Answer(resp.status, text, text if text.startswith("<xml") else "")

    async def deliver(self, xml: str, msg_id: str, *, retries_only: bool = False) -> Answer | None:
        """The first try and up to three retries (only the retries when the test made the first
        try itself); None when the platform gave up."""
        for attempt in range(1 if retries_only else 0, 1 + RETRIES):
            if attempt:
                await asyncio.sleep(self.gap)
            self.tries[msg_id] += 1
            answer = await self.try_once(xml, attempt)
            if answer is not None:
                return answer
        return None


def text_xml(openid: str, content: str, msg_id: int) -> str:
    return message_xml(openid, "text", {"Content": content}, msg_id=msg_id)


async def inbound_counts(services) -> Counter[str]:
    """How many times each platform MsgId was written to the transcript."""
    async with services.db() as session:
        ids = await session.scalars(select(Message.platform_msg_id).where(Message.direction == "in"))
        return Counter(ids)


def duplicate_pushes(mock_state) -> list[tuple[str, str]]:
    """Messages the mock platform accepted more than once for the same resident."""
    seen = Counter((m["touser"], repr(sorted(m["payload"].items()))) for m in mock_state.sent)
    return [key for key, n in seen.items() if n > 1]
