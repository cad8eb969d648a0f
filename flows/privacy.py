"""The privacy notice and the resident's consent words: 隐私 (and the menu), 撤回同意, and the /privacy page.

The notice is one text in `knowledge/data/texts/privacy.yaml`, shown whole in the chat (it is short,
and the chat is where residents are) and as a page for the link, so both always say the same.
Agreeing again (同意保存) is the assessment flow's own consent question, asked anew.
"""
from __future__ import annotations

import logging

import aiohttp_jinja2
from aiohttp import web

from bot.appkeys import CONFIG, SERVICES
from bot.config import RetentionPolicy
from bot.values import Reply
from bot import consent
from flows.context import Ctx
from handoff.review.requests import file_request
from knowledge.content import LANGUAGES
from knowledge.texts import Texts

log = logging.getLogger(__name__)

PAGE = "/privacy"


def notice_url(public_url: str, lang: str) -> str:
    """The page's absolute address, or '' when no public URL is configured (a bare path helps nobody in WeChat)."""
    if not public_url:
        return ""
    return public_url + PAGE + ("" if lang == "zh-Hans" else f"?lang={lang}")


def notice_text(texts: Texts, lang: str, policy: RetentionPolicy) -> str:
    return texts.get("privacy.notice", lang, version=consent.notice_version(texts), case_days=policy.case_days,
                     bot_days=policy.bot_days)


def pointer(ctx: Ctx) -> str:
    """One line for the welcome and the consent question: where the notice is."""
    url = notice_url(ctx.services.config.public_url, ctx.lang)
    return ctx.t("privacy.pointer_link", url=url) if url else ctx.t("privacy.pointer")


async def notice_reply(ctx: Ctx) -> list[Reply]:
    """The notice, its link, and what this resident has chosen."""
    texts, version = ctx.knowledge.texts, consent.notice_version(ctx.knowledge.texts)
    state = await consent.consent_of(ctx.services, ctx.ref.id)
    text = notice_text(texts, ctx.lang, ctx.services.config.retention)
    url = notice_url(ctx.services.config.public_url, ctx.lang)
    if url:
        text += "\n" + ctx.t("privacy.link", url=url)
    choice = state.decision if state.decided(version) else "none"
    return [Reply(text=text), Reply(text=ctx.t(f"consent.state.{choice}", version=version))]


async def withdraw(ctx: Ctx) -> list[Reply]:
    """No new health data from now on, and a deletion request for staff, as a data-subject request is filed."""
    version = consent.notice_version(ctx.knowledge.texts)
    await consent.record(ctx.services, ctx.ref.id, "withdrawn", version)
    request = await file_request(ctx.services, ctx.ref.id, "delete", channel="chat", note="consent withdrawn")
    log.info("consent withdrawn", extra={"request_id": request.id})
    return [Reply(text=ctx.t("consent.withdrawn"))]


async def privacy_page(request: web.Request) -> web.Response:
    texts = request.app[SERVICES].knowledge.texts
    lang = request.query.get("lang", "zh-Hans")
    lang = lang if lang in LANGUAGES else "zh-Hans"
    title, *points = notice_text(texts, lang, request.app[CONFIG].retention).split("\n")
    return aiohttp_jinja2.render_template("flows_privacy.html", request,
                                          {"lang": lang, "title": title, "points": points})
