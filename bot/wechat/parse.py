"""Turn the platform's XML into an Inbound, refusing anything that is not a well-formed message.

Each document is parsed once, by defusedxml, which refuses DOCTYPEs and entities (billion laughs,
external entities); its fields are read as wechatpy reads them (xmltodict's text, stripped), and
the safe-mode envelope's field is handed to wechatpy's crypto as the dict it accepts. wechatpy's own
parse_message would parse the text again only to carry that same dict.
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timezone

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from bot.values import Inbound

REQUIRED = ("ToUserName", "FromUserName", "CreateTime", "MsgType")
READ = REQUIRED + ("MsgId", "MsgID", "Content", "Recognition", "MediaId", "Event", "EventKey", "Status", "Label",
                   "Title", "Url", "Location_X", "Location_Y", "Latitude", "Longitude")
# Longer than anything the platform sends, and than the transcript's columns hold (openid 64, kind 32;
# an event's kind is cut to fit): a row the database refuses would not be kept.
LONGEST = {"ToUserName": 64, "FromUserName": 64, "MsgId": 64, "MsgID": 64, "MsgType": 32, "Event": 64}
# A field that nests elements, carries attributes, repeats or sits in a namespace: no platform message
# has one, and its text is not what the sender meant as the field's value.
NOT_PLAIN = object()


# The platform sends UTF-8; the body is decoded as such before parsing, so another declared encoding
# would be read wrongly (GBK 站 is valid UTF-8 for վ): such a body is refused, never garbled.
_DECLARED_ENCODING = re.compile(r"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")


class BadMessage(ValueError):
    """The body is not a message we can accept; the reason never includes its content."""


def read_xml(text: str, required: tuple[str, ...] = REQUIRED) -> dict[str, object]:
    """Parse `text` once, safely: its top-level fields by name, each its text stripped (None when empty)
    or `NOT_PLAIN`. Refuses what is unsafe, not well-formed, not an <xml> document or lacks `required`."""
    if "\x00" in text:  # XML allows no NUL; UTF-16/32 bytes read as UTF-8 are full of them
        raise BadMessage("body contains NUL characters")
    declared = _DECLARED_ENCODING.match(text)
    if declared and declared.group(1).strip().lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise BadMessage("declared encoding is not UTF-8")
    try:
        root = fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise BadMessage("xml with doctype or entities") from None
    except ParseError:
        raise BadMessage("not well-formed xml") from None
    if root.tag != "xml":
        raise BadMessage("root element is not <xml>")
    fields: dict[str, object] = {}
    for element in root:
        name = element.tag.rpartition("}")[2]
        plain = name == element.tag and not element.attrib and len(element) == 0 and name not in fields
        fields[name] = ((element.text or "").strip() or None) if plain else NOT_PLAIN
    for name in required:
        if fields.get(name) is NOT_PLAIN:
            raise BadMessage(f"field {name} is not plain text")
        if not fields.get(name):
            raise BadMessage(f"missing field {name}")
    if "CreateTime" in required and not fields["CreateTime"].isdigit():
        raise BadMessage("CreateTime is not a number")
    return fields


def _float(value) -> float | None:
    """A coordinate, or None when it is not a finite number (NaN or infinity would fail the turn)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def to_inbound(text: str) -> Inbound:
    """Validate and parse; events are normalised to lower-case names."""
    raw = read_xml(text)
    nested = next((name for name in READ if raw.get(name) is NOT_PLAIN), None)
    if nested:  # elements or attributes inside a field we read: no platform message looks like that
        raise BadMessage(f"field {nested} is not plain text")
    too_long = next((name for name, most in LONGEST.items() if len((raw.get(name) or "").lower()) > most), None)
    if too_long:
        raise BadMessage(f"field {too_long} is too long")
    received = datetime.fromtimestamp(int(raw["CreateTime"]), tz=timezone.utc)
    base = dict(openid=raw["FromUserName"], account=raw["ToUserName"], received_at=received,
                msg_id=str(raw.get("MsgId") or raw.get("MsgID") or ""))  # job reports spell it MsgID
    kind = raw["MsgType"].lower()
    if kind == "event":
        event = (raw.get("Event") or "").lower()
        if not event:
            raise BadMessage("missing field Event")
        key = raw.get("EventKey") or ""
        if key.startswith("qrscene_"):  # a subscribe through a QR code names its scene so
            key = key[len("qrscene_"):]
        return Inbound(kind="event", event=event, event_key=key,
                       latitude=_float(raw.get("Latitude")), longitude=_float(raw.get("Longitude")),
                       status=str(raw.get("Status") or ""), **base)
    if kind == "text":
        return Inbound(kind=kind, text=raw.get("Content") or "", **base)
    if kind == "voice":
        return Inbound(kind=kind, text=raw.get("Recognition") or "", media_id=raw.get("MediaId") or "", **base)
    if kind == "location":
        return Inbound(kind=kind, latitude=_float(raw.get("Location_X")), longitude=_float(raw.get("Location_Y")),
                       label=raw.get("Label") or "", **base)
    if kind == "link":
        return Inbound(kind=kind, label=raw.get("Title") or "", url=raw.get("Url") or "", **base)
    return Inbound(kind=kind, media_id=raw.get("MediaId") or "", **base)


def dedup_key(inbound: Inbound) -> str:
    """Messages carry MsgId, unique per resident (as the transcript's index has it), so the key names
    the sender too; events carry none, so they are keyed on sender, time, event and its key (a retry
    repeats all four; two different menu taps in one second differ in the key)."""
    if inbound.msg_id and inbound.kind != "event":  # an event's MsgID is a job id, not a message id
        return f"m:{inbound.openid}:{inbound.msg_id}"
    return f"e:{inbound.openid}:{int(inbound.received_at.timestamp())}:{inbound.event}:{inbound.event_key}"
