"""Render Reply values as WeChat passive-reply XML (wechatpy), safe for text we did not write."""
from __future__ import annotations

import time

from wechatpy.replies import ArticlesReply, TextReply

from bot.values import Reply

MAX_ARTICLES = 8


def cdata_safe(text: str) -> str:
    """wechatpy writes text into one CDATA section; split any ']]>' so the XML stays well-formed."""
    return text.replace("]]>", "]]]]><![CDATA[>")


def render(reply: Reply, *, to_openid: str, from_account: str) -> str:
    common = dict(target=to_openid, source=from_account, time=int(time.time()))
    if reply.text:
        return TextReply(content=cdata_safe(reply.text), **common).render()
    articles = [
        {"title": cdata_safe(a.title), "description": cdata_safe(a.description), "image": a.image, "url": a.url}
        for a in reply.articles[:MAX_ARTICLES]
    ]
    return ArticlesReply(articles=articles, **common).render()
