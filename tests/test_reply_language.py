"""One reply language per turn (bot.language): the message's own, unless the resident chose theirs or
the message says too little to tell; the safety path and the router answer in the same one."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot.language import CHOSEN, reply_language
from bot.models import Resident
from bot.transcript import ResidentRef
from bot.turn import run_turn
from bot.values import Inbound

ENGLISH = "I want to kill myself"


def resident(language: str = "zh-Hans", *, chosen: bool = False) -> ResidentRef:
    return ResidentRef(1, "o-lang", 1, language, False, True, {CHOSEN: 7 if chosen else None})


@pytest.mark.parametrize("text,lang", [(ENGLISH, "en"), ("我想結束自己的生命", "zh-Hant"), ("我想聊聊", "zh-Hans")])
def test_a_message_is_answered_in_the_language_it_is_written_in(text, lang):
    assert reply_language(text, resident("en" if lang != "en" else "zh-Hans")) == lang


@pytest.mark.parametrize("text", ["1", "ok", "PHQ-9", "hello!", "  "])
def test_a_message_that_says_too_little_keeps_the_residents_language(text):
    assert reply_language(text, resident("zh-Hant")) == "zh-Hant"


def test_a_chosen_language_is_kept_whatever_the_message_is_written_in():
    assert reply_language(ENGLISH, resident("zh-Hans", chosen=True)) == "zh-Hans"
    assert reply_language(ENGLISH, resident("zh-Hans"), chosen=True) == "zh-Hans"


def test_someone_unknown_is_answered_by_the_message_alone():
    assert reply_language(ENGLISH) == "en"
    assert reply_language("1") == "zh-Hans"


async def test_a_crisis_from_a_resident_who_chose_chinese_is_answered_in_chinese(say):
    await say("o-chose", "简体")
    reply = await say("o-chose", ENGLISH)
    assert "我们在这里" in reply and "12356" in reply and "You are not alone" not in reply


async def test_writing_in_english_answers_and_keeps_english_in_the_same_turn(services, say):
    await say("o-wrote-en", "你好")
    reply = await say("o-wrote-en", "hello, where is the nearest station please")
    assert "Welcome" not in reply and not any("\u4e00" <= ch <= "\u9fff" for ch in reply)
    async with services.db() as session:
        stored = await session.scalar(select(Resident.language).where(Resident.openid == "o-wrote-en"))
    assert stored == "en"


async def test_a_message_written_before_still_keeps_a_chosen_language(services, say):
    """Its worker died after writing it: the retry's turn reads the resident without their facts."""
    await say("o-rewritten", "简体")
    inbound = Inbound("o-rewritten", "text", datetime.now(timezone.utc), text=ENGLISH, msg_id="9001")
    await services.transcript.record_inbound(inbound)
    ref, replies = await run_turn(services, inbound)
    assert CHOSEN not in ref.facts
    assert "我们在这里" in replies[0].text
