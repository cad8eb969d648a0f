"""The way around: welcome, menu keys and words, global words, languages, fallback, resume and expiry."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from bot.models import Resident

# A first assessment opens with the age band question (then consent): flows/consent_gate.py.
MENU_CLICKS = {"MENU_ASSESS": "consent.ask_age", "MENU_TIPS": "tips.topics", "MENU_EVENTS": "events",
               "MENU_STATIONS": "stations.ask"}


def first_line(text: str) -> str:
    return text.split("\n", 1)[0].split("{", 1)[0]


async def test_subscribing_gets_the_welcome_with_emergency_numbers_and_menu(platform, services, say):
    answer = await platform.event("o-new-follower", "subscribe")
    assert answer.text == say("welcome", menu=say("menu"), privacy=say("privacy.pointer"))
    assert "12356" in answer.text and "110" in answer.text and "120" in answer.text


async def test_first_message_without_follow_event_gets_the_welcome(make_resident, say):
    person = await make_resident("o-first-words", follow=False)
    assert (await person.say("在吗")).startswith(say("welcome", menu=say("menu"), privacy=say("privacy.pointer")))


async def test_first_message_that_asks_something_gets_welcome_and_an_answer(make_resident, say):
    person = await make_resident("o-first-question", follow=False)
    reply = await person.say("睡不着怎么办")
    assert reply.startswith(say("welcome", menu=say("menu"), privacy=say("privacy.pointer")))
    assert "睡" in reply.split(say("menu"), 1)[1]


@pytest.mark.parametrize("key,text_key", MENU_CLICKS.items())
async def test_each_menu_key_opens_its_area(resident, key, text_key, say):
    reply = await resident.click(key)
    if text_key == "events":  # no events in a fresh database
        assert reply == say("events.none", menu=say("menu"))
    else:
        assert reply.startswith(first_line(say(text_key, scales="", topics="", counties="")))


async def test_counsellor_menu_key_opens_a_case(resident, services):
    from handoff.models import Case

    reply = await resident.click("MENU_COUNSELLOR")
    assert "12356" in reply or "咨询师" in reply
    async with services.db() as session:
        cases = list(await session.scalars(select(Case)))
    assert len(cases) == 1 and cases[0].reason == "resident_request"


@pytest.mark.parametrize("typed,text_key", [("1", "consent.ask_age"), ("测评", "consent.ask_age"),
                                            ("2", "tips.topics"), ("科普", "tips.topics"),
                                            ("4", "stations.ask"), ("站点", "stations.ask")])
async def test_typed_numbers_and_words_open_the_areas(resident, typed, text_key, say):
    reply = await resident.say(typed)
    assert reply.startswith(first_line(say(text_key, scales="", topics="", counties="")))


FLOW_ENTRIES = {"assessment": ["测评", "6", "1"], "tips": ["科普", "11"], "stations": ["站点", "2"],
                "events": ["活动"]}


@pytest.mark.parametrize("flow", FLOW_ENTRIES)
async def test_menu_word_from_inside_every_flow_returns_to_the_menu(resident, services, flow, say):
    await resident.answers(*FLOW_ENTRIES[flow])
    assert await resident.say("菜单") == say("menu")
    assert await services.states.get(resident.openid) is None


@pytest.mark.parametrize("flow", FLOW_ENTRIES)
async def test_exit_from_inside_every_flow_leaves_it(resident, services, flow, say):
    await resident.answers(*FLOW_ENTRIES[flow])
    assert await resident.say("退出") == say("menu.exited", menu=say("menu"))
    assert await services.states.get(resident.openid) is None
    assert await resident.say("1") == await resident.say("测评")  # back at the top: 1 is the first area


@pytest.mark.parametrize("flow", FLOW_ENTRIES)
async def test_counsellor_word_from_inside_every_flow_asks_for_a_person(resident, services, flow):
    from handoff.models import Case

    await resident.answers(*FLOW_ENTRIES[flow])
    reply = await resident.say("人工")
    assert reply
    async with services.db() as session:
        assert await session.scalar(select(Case.reason)) == "resident_request"
    assert await services.states.get(resident.openid) is None


@pytest.mark.parametrize("text", ["12345", "🙂", "。。。"])
async def test_text_that_matches_nothing_gets_the_menu_never_silence(resident, text, say):
    assert await resident.say(text) == say("fallback", menu=say("menu"))


async def test_free_text_gets_the_best_matching_tip(resident, knowledge):
    reply = await resident.say("最近总是失眠睡不着")
    best = knowledge.tips.search("最近总是失眠睡不着", "zh-Hans", limit=1)[0]
    assert best.title.zh_hans in reply and best.body.zh_hans in reply


async def test_an_image_gets_an_answer(resident, platform, say):
    from tests.platform import message_xml

    answer = await platform.send_xml(message_xml(resident.openid, "image", {"PicUrl": "http://x/y.jpg",
                                                                           "MediaId": "m1"}))
    assert answer.text == say("menu.not_text", menu=say("menu"))


@pytest.mark.parametrize("word,lang", [("English", "en"), ("繁體", "zh-Hant"), ("简体", "zh-Hans")])
async def test_language_words_switch_and_are_stored(resident, services, word, lang, say):
    reply = await resident.say(word)
    assert reply == say("language_switched", lang) + "\n\n" + say("menu", lang)
    async with services.db() as session:
        assert await session.scalar(select(Resident.language).where(Resident.openid == resident.openid)) == lang
    assert (await resident.say("1")).startswith(first_line(say("consent.ask_age", lang)))


async def test_traditional_menu_is_derived_and_flows_speak_it(resident, say):
    await resident.say("繁體")
    reply = await resident.say("測評")
    assert "自評" in reply and "筛" not in reply


ENGLISH_QUESTION = "hello, what are your opening hours and phone numbers please"


async def test_writing_in_english_is_detected(resident, services, say):
    reply = await resident.say(ENGLISH_QUESTION)
    assert reply.startswith(first_line(say("intents.contact", "en", centre="", phone="", hours="", address="")))
    async with services.db() as session:
        assert await session.scalar(select(Resident.language).where(Resident.openid == resident.openid)) == "en"


async def test_a_chosen_language_is_not_overridden_by_detection(resident, say):
    await resident.say("简体")
    reply = await resident.say(ENGLISH_QUESTION)
    assert reply.startswith(first_line(say("intents.contact", centre="", phone="", hours="", address="")))


@pytest.fixture
def clock():
    """The whole service's clock (datetime, time), moved with `clock.shift(...)` as if the resident came
    back later; the event loop's monotonic clock, and so every timeout, runs on untouched."""
    with time_machine.travel(datetime.now(timezone.utc), tick=True) as traveller:
        yield traveller


async def start_phq9(person) -> None:
    await person.consent()
    await person.answers("测评", "6", "1", "2")  # PHQ-9 is the 6th scale; two answers given


async def test_coming_back_within_a_day_offers_to_resume(resident, clock, say, knowledge):
    await start_phq9(resident)
    clock.shift(timedelta(hours=3))
    name = knowledge.scales.get("PHQ-9").name.zh_hans
    assert await resident.say("1") == say("resume_prompt", scale=name, answered=2, total=9)
    reply = await resident.say("1")  # continue
    assert reply.startswith("第 3/9 题")


async def test_resume_can_restart_or_stop(resident, clock, services, say):
    await start_phq9(resident)
    clock.shift(timedelta(hours=2))
    await resident.say("0")
    assert "第 1/9 题" in await resident.say("2")
    clock.shift(timedelta(hours=2))
    await resident.say("0")
    assert await resident.say("3") == say("assessment.stopped", menu=say("menu"))
    assert await services.states.get(resident.openid) is None


async def test_a_short_pause_just_continues(resident, clock):
    await start_phq9(resident)
    clock.shift(timedelta(minutes=5))
    assert (await resident.say("0")).startswith("第 4/9 题")


async def test_after_a_day_the_flow_expires(resident, clock, services, say):
    await start_phq9(resident)
    clock.shift(timedelta(hours=25))
    assert await resident.say("1") == say("flow_expired", menu=say("menu"))
    assert await services.states.get(resident.openid) is None
    assert (await resident.say("1")).startswith(first_line(say("assessment.choose", scales="")))


async def test_flow_state_lives_in_the_shared_store(resident, services):
    await start_phq9(resident)
    state = await services.states.get(resident.openid)
    assert (state.flow, state.state, state.data) == ("assessment", "asking", {"scale": "PHQ-9", "answers": [1, 2]})
