"""Consent through the chat, for tests whose residents take assessments: the resident agrees to keep
results the way a resident would (同意保存, an adult age band, 1 to agree), then returns to the menu."""
from __future__ import annotations

from typing import Awaitable, Callable

CONSENT_TURNS = ("同意保存", "3", "1", "菜单")


async def consent_in_chat(send: Callable[[str, str], Awaitable[object]], openid: str) -> None:
    """`send(openid, text)` is whatever the test speaks to the webhook with (platform.text, a `say` fixture)."""
    for text in CONSENT_TURNS:
        await send(openid, text)
