"""The platform's field types for category templates (类目模板) and what each accepts.

Since May 2023 the platform types every keyword of a template: a `thing` holds at most 20
characters, a `time` is a 24-hour time (optionally with a date, or two joined by `~`), and so on,
and it shows no emoji. A value outside its type is cut or refused by the platform, so it is refused
here first: in the admin form, and for each resident when a push is rendered.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_DATE = r"(?:\d{4}年\d{1,2}月\d{1,2}日|\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2})"
_CLOCK = r"(?:[01]?\d|2[0-3]):[0-5]\d"
_TIME = rf"(?:{_DATE}\s*)?{_CLOCK}"
_DAY = rf"{_DATE}(?:\s*{_CLOCK})?"
# Pictographs, dingbats, variation selectors, flags, keycaps: the platform shows none of them.
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D\u20E3\U000E0000-\U000E007F]")


@dataclass(frozen=True)
class FieldType:
    name: str
    max_chars: int
    accepts: str  # for the admin, in Chinese
    pattern: re.Pattern | None = None


TYPES = {t.name: t for t in (
    FieldType("thing", 20, "20 个字以内（汉字、字母、数字、符号）"),
    FieldType("time", 40, "24 小时制时间，可带日期，如 2025-03-01 09:30；时段用 ~ 连接",
              re.compile(rf"^{_TIME}(?:\s*~\s*{_TIME})?$")),
    FieldType("date", 40, "日期，如 2025-03-01 或 2025年3月1日，可带时间；时段用 ~ 连接",
              re.compile(rf"^{_DAY}(?:\s*~\s*{_DAY})?$")),
    FieldType("number", 32, "32 位以内数字，可带小数点", re.compile(r"^-?\d+(?:\.\d+)?$")),
    FieldType("letter", 32, "32 个以内字母", re.compile(r"^[A-Za-z]+$")),
    FieldType("phrase", 5, "5 个以内汉字", re.compile(r"^[\u4e00-\u9fff]+$")),
    FieldType("character_string", 32, "32 位以内数字、字母或符号", re.compile(r"^[\x21-\x7e]+$")),
    FieldType("amount", 14, "金额，如 ¥12.50 或 12元", re.compile(r"^[¥￥]?\d{1,10}(?:\.\d{1,2})?元?$")),
    FieldType("phone_number", 17, "17 位以内电话号码（数字、+、-）", re.compile(r"^[\d+\-() ]+$")),
)}


def problem(type_name: str, value: str) -> str:
    """Why the platform would cut or refuse `value` in a field of this type; "" when it fits."""
    kind = TYPES[type_name]
    if "\n" in value or "\r" in value:
        return "不能换行"
    if _EMOJI.search(value):
        return "平台不显示表情符号（emoji）"
    if len(value) > kind.max_chars:
        return f"{len(value)} 个字，超过 {kind.max_chars} 个字的上限"
    if value and kind.pattern is not None and not kind.pattern.match(value):
        return f"格式不符：应为{kind.accepts}"
    return ""


def literal_problem(type_name: str, source: str) -> str:
    """For a value with {{ placeholders }}: what its fixed text alone already breaks."""
    fixed = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", source, flags=re.S)
    if "\n" in fixed.strip():
        return "不能换行"
    if _EMOJI.search(fixed):
        return "平台不显示表情符号（emoji）"
    if len(fixed) > TYPES[type_name].max_chars:
        return f"固定文字已有 {len(fixed)} 个字，超过 {TYPES[type_name].max_chars} 个字的上限"
    return ""
