"""The reply language: one rule, decided once per turn (`Turn.language`) and wherever a message is
answered without one (the database or Redis down).

A resident is answered in the language they write in, and it becomes theirs, unless they chose one
themselves (`lang_chosen`, set by the language words) or the message says too little to tell: no
letters ("1"), or a single English word ("menu", "maybe", "PHQ", "ok"). Then they keep their own,
and someone the service does not know yet gets Simplified Chinese.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from bot.models import ResidentTag
from bot.transcript import RESIDENT_ID, ResidentRef
from knowledge.texts import detect_language

DEFAULT = "zh-Hans"
CHOSEN_TAG = "lang_chosen"
CHOSEN = "language_chosen"  # ResidentRef.facts: the CHOSEN_TAG row's id, None when they chose nothing
MIN_ENGLISH_WORDS = 2
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def chosen_tag_id():
    """Read with the resident's row as each message is written (bot.transcript), so deciding asks nothing."""
    return (select(ResidentTag.id).where(ResidentTag.resident_id == RESIDENT_ID, ResidentTag.tag == CHOSEN_TAG)
            .limit(1).scalar_subquery())


def reply_language(text: str, ref: ResidentRef | None = None, *, chosen: bool | None = None) -> str:
    """The language to answer `text` in. `chosen` overrides what `ref.facts` says (for a reference
    read without its facts); a resident not known at all is answered by the message alone."""
    own = ref.language if ref is not None else DEFAULT
    if chosen is None:
        chosen = ref is not None and ref.facts.get(CHOSEN) is not None
    found = detect_language(text)
    if found is None or found == own or chosen:
        return own
    if found == "en" and len(_LATIN_WORD.findall(text)) < MIN_ENGLISH_WORDS:
        return own
    return found
