"""The fake WeChat platform: builds real signed (and encrypted) requests to `/wechat`.

Tests speak to the service only the way the platform does, so they exercise the real transport.
"""
from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto

from bot.wechat.security import sign

ACCOUNT = "gh_xinzhan_test"
_msg_ids = itertools.count(int(time.time() * 1000))


def cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def message_xml(openid: str, msg_type: str, fields: dict[str, str], *, create_time: int | None = None,
                msg_id: int | None = None, with_msg_id: bool = True) -> str:
    parts = [f"<ToUserName>{cdata(ACCOUNT)}</ToUserName>", f"<FromUserName>{cdata(openid)}</FromUserName>",
             f"<CreateTime>{create_time or int(time.time())}</CreateTime>", f"<MsgType>{cdata(msg_type)}</MsgType>"]
    parts += [f"<{k}>{cdata(str(v))}</{k}>" for k, v in fields.items()]
    if msg_type != "event" and with_msg_id:
        parts.append(f"<MsgId>{msg_id or next(_msg_ids)}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


@dataclass
class Answer:
    status: int
    body: str
    xml: str  # decrypted reply XML ('' for success / empty)

    @property
    def reply(self):
        return parse_message(self.xml) if self.xml.startswith("<xml") else None

    @property
    def text(self) -> str:
        reply = self.reply
        return getattr(reply, "content", "") if reply is not None else ""


class Platform:
    """Sends to the service like WeChat does; `mode` is plain, compatible or safe."""

    def __init__(self, client, config, mode: str = "auto") -> None:
        self.client = client
        self.config = config
        self.mode = ("safe" if config.encrypted else "plain") if mode == "auto" else mode
        self.crypto = WeChatCrypto(config.wechat_token, config.wechat_aes_key, config.wechat_appid) \
            if config.encrypted else None

    def signed_query(self, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
        ts = str(timestamp or int(time.time()))
        nonce = nonce or uuid.uuid4().hex[:10]
        return {"timestamp": ts, "nonce": nonce, "signature": sign(self.config.wechat_token, ts, nonce)}

    def envelope(self, xml: str) -> tuple[dict[str, str], str]:
        query = self.signed_query()
        if self.mode == "plain":
            return query, xml
        encrypted = self.crypto.encrypt_message(xml, query["nonce"], query["timestamp"])
        encrypt_value = encrypted.split("<Encrypt><![CDATA[")[1].split("]]></Encrypt>")[0]
        query.update(encrypt_type="aes",
                     msg_signature=sign(self.config.wechat_token, query["timestamp"], query["nonce"], encrypt_value))
        if self.mode == "safe":
            body = f"<xml><ToUserName>{cdata(ACCOUNT)}</ToUserName><Encrypt>{cdata(encrypt_value)}</Encrypt></xml>"
        else:  # compatible: the plain fields and the Encrypt field side by side
            body = xml.replace("</xml>", f"<Encrypt>{cdata(encrypt_value)}</Encrypt></xml>")
        return query, body

    async def post_raw(self, query: dict, body: str | bytes) -> Answer:
        resp = await self.client.post("/wechat", params=query, data=body)
        text = await resp.text()
        xml = ""
        if resp.status == 200 and text.startswith("<xml"):
            if query.get("encrypt_type") == "aes":
                q = {k: v for k, v in _reply_query(text).items()}
                xml = self.crypto.decrypt_message(text, q["msg_signature"], q["timestamp"], q["nonce"])
            else:
                xml = text
        return Answer(resp.status, text, xml)

    async def send_xml(self, xml: str) -> Answer:
        query, body = self.envelope(xml)
        return await self.post_raw(query, body)

    async def text(self, openid: str, content: str, **kw) -> Answer:
        return await self.send_xml(message_xml(openid, "text", {"Content": content}, **kw))

    async def event(self, openid: str, event: str, create_time: int | None = None, **fields) -> Answer:
        return await self.send_xml(message_xml(openid, "event", {"Event": event, **fields}, create_time=create_time))


def _reply_query(xml: str) -> dict[str, str]:
    """An encrypted reply carries its own signature, timestamp and nonce."""
    def field(name: str) -> str:
        return xml.split(f"<{name}>")[1].split(f"</{name}>")[0].replace("<![CDATA[", "").replace("]]>", "")
    return {"msg_signature": field("MsgSignature"), "timestamp": field("TimeStamp"), "nonce": field("Nonce")}
