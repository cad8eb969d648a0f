"""Asking for a person: the menu's 找咨询师, the global word 人工, and an assessment's safety item."""
from __future__ import annotations

from dataclasses import replace

from bot.values import Reply
from flows.context import Ctx
from handoff.requests import request_handoff


async def request_counsellor(ctx: Ctx, *, reason: str, level: int, evidence: str = "") -> list[Reply]:
    """Open (or find) the resident's case; the handoff package says what happens next."""
    ref = replace(ctx.ref, language=ctx.lang)  # a language switched this turn counts already
    ticket = await request_handoff(ctx.services, ref, reason=reason, level=level, evidence=evidence)
    return list(ticket.replies)
