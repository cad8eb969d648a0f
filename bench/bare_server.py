"""The ceiling for the webhook benchmark: an aiohttp handler that only verifies, parses and answers.

Same signature check, same wechatpy parse and reply, nothing else: no Redis, no database, no flows.
"""
from __future__ import annotations

import sys

from aiohttp import web
from wechatpy import parse_message
from wechatpy.replies import TextReply

from bot.wechat.security import signature_ok

TOKEN = "bench-token"


async def receive(request: web.Request) -> web.Response:
    q = request.query
    if not signature_ok(TOKEN, q.get("timestamp", ""), q.get("nonce", ""), q.get("signature", "")):
        return web.Response(status=403)
    msg = parse_message(await request.text())
    return web.Response(text=TextReply(content="收到", message=msg).render(), content_type="application/xml")


if __name__ == "__main__":
    app = web.Application()
    app.router.add_post("/wechat", receive)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None,
                reuse_port=True)
