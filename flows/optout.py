"""Stopping and resuming campaign pushes at the resident's word.

A push audience never includes a resident tagged `optout:campaigns` (bot/tags.py, which
scheduler/audiences.py reads), so the tag is the whole opt-out: set at once, confirmed with how to
undo it, removed by "恢复推送".
"""
from __future__ import annotations

import logging

from bot.tags import CAMPAIGNS_OPT_OUT, add_tags, remove_tag
from bot.values import Reply
from flows.context import Ctx

log = logging.getLogger(__name__)


async def opt_out(ctx: Ctx) -> list[Reply]:
    await add_tags(ctx.services.db, ctx.ref.id, [CAMPAIGNS_OPT_OUT])
    log.info("campaign pushes stopped at the resident's request")
    return [Reply(text=ctx.t("intents.optout_done"))]


async def opt_in(ctx: Ctx) -> list[Reply]:
    await remove_tag(ctx.services.db, ctx.ref.id, CAMPAIGNS_OPT_OUT)
    log.info("campaign pushes resumed at the resident's request")
    return [Reply(text=ctx.t("intents.optin_done"))]
