"""Redaction of personal data in exported or logged text.

Data classes: mainland mobile numbers, landlines with an area code, 18-digit resident ID numbers
(checksum-verified, so an order number is left alone), addresses (chains of administrative and
street units: 省 市 区 县 镇 街道 路 街 巷 号 栋 单元 室 …) and names where known. Emergency and
hotline numbers (12356, 110, 120, …) are never redacted: a transcript must still show that the
resident was given them.
"""
from __future__ import annotations

import re
from typing import Iterable

PHONE = "[手机号]"
LANDLINE = "[电话]"
ID_NUMBER = "[身份证号]"
ADDRESS = "[地址]"
NAME = "[姓名]"

KEEP = frozenset({"110", "120", "119", "122", "12356", "12320", "12355", "12338", "4001619995"})

_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:(?:\+|00)?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3})[-\s]?\d{7,8}(?:[-转]\d{1,5})?(?!\d)")
# One address unit: a short run of place-name characters ending in a unit word. Pronouns and the
# little words around an address (我住在…) are not place-name characters, so the match starts after them.
_UNIT = (r"[^\s\W我你他她它们在住是的了和到去从就也都要把被给向往离近附旁边]{1,10}?"
         r"(?:特别行政区|自治区|自治州|街道|小区|号楼|单元|大道|大厦|省|市|区|县|镇|乡|村|路|街|巷|弄|栋|幢|号|室)")
_ADDRESS = re.compile(f"(?:{_UNIT}){{2,}}")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def valid_id_number(number: str) -> bool:
    """GB 11643: the 18th character is a checksum over the first 17 digits."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def _keep_or(token: str):
    def replace(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return match.group(0) if digits in KEEP else token
    return replace


def redact(text: str, names: Iterable[str] = ()) -> str:
    if not text:
        return text
    text = _ID.sub(lambda m: ID_NUMBER if valid_id_number(m.group(0)) else m.group(0), text)
    text = _MOBILE.sub(_keep_or(PHONE), text)
    text = _LANDLINE.sub(_keep_or(LANDLINE), text)
    text = _ADDRESS.sub(ADDRESS, text)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = text.replace(name, NAME)
    return text
