"""The platform's side of the wire: the XML it sends, how it signs it, and how it reads our answer.

The simulator builds requests with the same primitives the platform uses (SHA-1 signature,
wechatpy's WeChatCrypto), so what reaches `/wechat` is indistinguishable from a real resident's
message and exercises the whole transport.
"""
from __future__ import annotations

import math
import re
import secrets
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from defusedxml.ElementTree import fromstring
from wechatpy.crypto import WeChatCrypto

from bot.wechat.security import sign

ACCOUNT = "gh_xinzhan_demo"  # the official account's original id, as the platform names it
TYPES = ("text", "location", "click", "view", "subscribe", "unsubscribe")
EVENTS = {"click": "CLICK", "view": "VIEW", "subscribe": "subscribe", "unsubscribe": "unsubscribe"}
OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_TEXT = 2000
MAX_FIELD = 256
# Characters XML 1.0 cannot carry; the platform never sends them, so neither do we.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


class BadInput(ValueError):
    """The simulator request cannot become a platform message; the text says what to fix."""


@dataclass(frozen=True)
class SimMessage:
    """What the page asked to send, validated."""

    openid: str
    type: str
    text: str = ""
    lat: float = 0.0
    lon: float = 0.0
    label: str = ""
    key: str = ""
    scene: str = ""


@dataclass(frozen=True)
class Envelope:
    """A signed request as the platform would POST it: query parameters and body."""

    query: dict[str, str]
    body: str


def _string(body: dict, name: str, limit: int, *, required: bool = False) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise BadInput(f"{name} must be a string")
    value = value.strip()
    if required and not value:
        raise BadInput(f"{name} is required for type {body.get('type')!r}")
    if len(value) > limit:
        raise BadInput(f"{name} is longer than {limit} characters")
    if NOT_XML.search(value):
        raise BadInput(f"{name} contains characters a WeChat message cannot carry")
    return value


def _coordinate(body: dict, name: str, bound: float) -> float:
    value = body.get(name)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadInput(f"{name} must be a number")
    if abs(value) > bound:
        raise BadInput(f"{name} must be between -{bound:g} and {bound:g}")
    return float(value)


def from_json(body: object) -> SimMessage:
    """Validate the page's JSON; anything the platform would never send is refused here."""
    if not isinstance(body, dict):
        raise BadInput("the body must be a JSON object")
    kind = body.get("type")
    if kind not in TYPES:
        raise BadInput(f"type must be one of {', '.join(TYPES)}")
    openid = body.get("openid")
    if not isinstance(openid, str) or not OPENID.fullmatch(openid):
        raise BadInput("openid must be 1-64 letters, digits, '-' or '_'")
    if kind == "text":
        return SimMessage(openid, kind, text=_string(body, "text", MAX_TEXT, required=True))
    if kind == "location":
        return SimMessage(openid, kind, lat=_coordinate(body, "lat", 90), lon=_coordinate(body, "lon", 180),
                          label=_string(body, "label", MAX_FIELD))
    if kind in ("click", "view"):
        return SimMessage(openid, kind, key=_string(body, "key", MAX_FIELD, required=True))
    if kind == "subscribe":
        return SimMessage(openid, kind, scene=_string(body, "scene", 64))
    return SimMessage(openid, kind)


def _xml(fields: list[tuple[str, str]]) -> str:
    root = ET.Element("xml")
    for name, value in fields:
        ET.SubElement(root, name).text = value
    return ET.tostring(root, encoding="unicode")


def to_xml(msg: SimMessage, *, now: int) -> str:
    """The platform's XML for a message or event; messages carry a fresh MsgId, events none."""
    fields = [("ToUserName", ACCOUNT), ("FromUserName", msg.openid), ("CreateTime", str(now))]
    msg_id = [("MsgId", str(secrets.randbits(62)))]
    if msg.type == "text":
        return _xml(fields + [("MsgType", "text"), ("Content", msg.text)] + msg_id)
    if msg.type == "location":
        return _xml(fields + [("MsgType", "location"), ("Location_X", f"{msg.lat:.6f}"),
                              ("Location_Y", f"{msg.lon:.6f}"), ("Scale", "15"), ("Label", msg.label)] + msg_id)
    fields += [("MsgType", "event"), ("Event", EVENTS[msg.type])]
    if msg.key:
        fields.append(("EventKey", msg.key))
    if msg.scene:
        fields += [("EventKey", f"qrscene_{msg.scene}"), ("Ticket", f"sim-ticket-{secrets.token_hex(8)}")]
    return _xml(fields)


def seal(xml: str, *, openid: str, token: str, crypto: WeChatCrypto | None) -> Envelope:
    """Sign as the platform does; in safe mode encrypt and send only ToUserName and Encrypt."""
    timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
    query = {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, "openid": openid}
    if crypto is None:
        return Envelope(query, xml)
    sealed = fromstring(crypto.encrypt_message(xml, nonce, timestamp))
    query.update(encrypt_type="aes", msg_signature=sealed.findtext("MsgSignature") or "")
    return Envelope(query, _xml([("ToUserName", ACCOUNT), ("Encrypt", sealed.findtext("Encrypt") or "")]))


def open_reply(body: str, crypto: WeChatCrypto | None) -> dict | None:
    """Read a passive reply as the platform would: decrypt if sealed, then text or news articles."""
    text = body.strip()
    if not text or text == "success":
        return None
    root = fromstring(text, forbid_dtd=True)
    encrypted = root.findtext("Encrypt")
    if encrypted is not None:
        if crypto is None:
            raise ValueError("the webhook sent an encrypted reply but no AES key is configured")
        root = fromstring(crypto.decrypt_message({"Encrypt": encrypted}, root.findtext("MsgSignature"),
                                                 root.findtext("TimeStamp"), root.findtext("Nonce")),
                          forbid_dtd=True)
    kind = root.findtext("MsgType") or ""
    if kind == "text":
        return {"type": "text", "text": root.findtext("Content") or ""}
    if kind == "news":
        articles = [{"title": item.findtext("Title") or "", "description": item.findtext("Description") or "",
                     "image": item.findtext("PicUrl") or "", "url": item.findtext("Url") or ""}
                    for item in root.iter("item")]
        return {"type": "news", "articles": articles}
    return {"type": kind or "unknown"}
