"""Free text through /wechat: each intent starts its flow, the first contact, the clarifying question,
opting out of pushes, a request for a person inside a flow, and every reading kept."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db import utcnow
from bot.models import Resident, ResidentTag
from flows.models import IntentRead
from flows.stations import dialable
from scheduler.audiences import AudienceRule, conditions


def first_line(text: str) -> str:
    return text.split("\n", 1)[0].split("{", 1)[0]


async def cases(services) -> list[str]:
    from handoff.models import Case

    async with services.db() as session:
        return list(await session.scalars(select(Case.reason)))


async def tags(services, openid: str) -> set[str]:
    async with services.db() as session:
        return set(await session.scalars(select(ResidentTag.tag).join(Resident).where(Resident.openid == openid)))


async def test_asking_for_a_real_person_requests_a_counsellor_as_the_menu_does(resident, services):
    await resident.say("我想和真人聊聊")
    assert await cases(services) == ["resident_request"]


async def test_a_named_scale_starts_that_scale(resident, knowledge, consented):
    reply = await resident.say("我想做个抑郁测试")
    phq9 = knowledge.scales.get("PHQ-9")
    assert phq9.name.zh_hans in reply and f"第 1/{len(phq9.items)} 题：{phq9.items[0].text.zh_hans}" in reply


async def test_a_named_scale_waits_for_the_consent_questions_first(resident, say):
    """The consent gate stands before every self-check, however it was asked for."""
    assert (await resident.say("我想做个抑郁测试")).startswith(first_line(say("consent.ask_age")))


async def test_an_assessment_without_a_scale_offers_the_list(resident, say, consented):
    assert (await resident.say("我想做个心理测评")).startswith(first_line(say("assessment.choose", scales="")))


async def test_record_request_answers_with_the_record(resident, say):
    assert await resident.say("我之前的测评结果在哪里看") == say("record.empty")


async def test_stations_near_a_named_area_are_listed(resident, say):
    reply = await resident.say("东湖区有心理服务站吗")
    assert first_line(say("stations.near_place", place="东湖区", stations="", county="", hotline="")) in reply \
        or "“东湖区”附近的站点现在都不开放" in reply
    assert "东湖区心理援助热线" in reply


async def test_stations_without_a_place_ask_where(resident, say):
    assert (await resident.say("附近有心理咨询的地方吗")).startswith(first_line(say("stations.ask", counties="")))


async def test_events_request_lists_events(resident, say):
    assert await resident.say("最近有什么活动") == say("events.none", menu=say("menu"))


async def test_cancelling_a_registration_shows_mine(resident, say):
    assert await resident.say("怎么取消报名") == say("events.mine_empty")


async def test_a_tip_topic_lists_that_topics_tips(resident, knowledge):
    reply = await resident.say("有没有关于失眠的文章")
    sleep = knowledge.tips.by_topic("sleep")
    assert reply.startswith("睡眠") and f"1 {sleep[0].title.zh_hans}" in reply


@pytest.mark.parametrize("text,key", [("你是机器人吗", "intents.about"), ("谢谢你", "intents.greeting.thanks"),
                                      ("再见", "intents.greeting.bye")])
async def test_questions_about_us_and_greetings_are_answered(resident, say, text, key):
    assert await resident.say(text) == say(key)


async def test_contact_request_gives_the_helpline_and_the_centre(resident, knowledge, say):
    reply = await resident.say("热线电话是多少")
    centre = next(s for s in knowledge.stations.stations() if s.level == "city")
    assert reply.startswith(first_line(say("intents.contact", centre="", phone="", hours="", address="")))
    assert dialable(centre.phone) in reply  # one run of digits: WeChat offers to call it


async def test_asking_for_english_switches(resident, services, say):
    assert (await resident.say("可以用英文跟我聊吗")).startswith(say("language_switched", "en"))
    async with services.db() as session:
        assert await session.scalar(select(Resident.language).where(Resident.openid == resident.openid)) == "en"


async def test_asking_for_the_menu_shows_it(resident, say):
    assert await resident.say("回到主菜单") == say("menu")


async def test_a_feeling_gets_an_acknowledgement_a_tip_and_two_offers(resident, knowledge, say):
    reply = await resident.say("和父母吵架了心里很难受")
    assert reply.startswith(first_line(say("intents.feeling", tip="")))
    titles = [tip.title.zh_hans for topic in knowledge.tips.topics() for tip in knowledge.tips.by_topic(topic.id)]
    assert any(title in reply for title in titles)
    assert "“咨询师”" in reply and "“测评”" in reply


async def test_unclear_says_so_and_offers_the_menu_and_a_counsellor_never_a_tip(resident, say):
    reply = await resident.say("人工智能会取代人类吗")
    assert reply == say("fallback", menu=say("menu")) and "咨询师" in reply


async def test_optout_unsubscribes_from_campaign_pushes_at_once_and_says_how_to_undo(resident, services, say):
    assert await resident.say("不要再给我发消息了") == say("intents.optout_done")
    assert "optout:campaigns" in await tags(services, resident.openid)

    async def in_push_audience() -> bool:
        async with services.db() as session:
            audience = set(await session.scalars(select(Resident.openid)
                                                 .where(*conditions(AudienceRule(), now=utcnow()))))
        return resident.openid in audience

    assert not await in_push_audience()
    assert await resident.say("恢复推送") == say("intents.optin_done")
    assert "optout:campaigns" not in await tags(services, resident.openid)
    assert await in_push_audience()


async def test_first_message_gets_the_welcome_and_the_answer(make_resident, knowledge, say):
    person = await make_resident("o-first-phq", follow=False)
    reply = await person.say("我想做个抑郁测试")
    welcome = say("welcome", menu=say("menu"), privacy=say("privacy.pointer"))
    assert reply.startswith(welcome)
    assert first_line(say("consent.ask_age")) in reply[len(welcome):]  # the self-check begins: its first question


async def test_first_greeting_gets_only_the_welcome(make_resident, say):
    person = await make_resident("o-first-hello", follow=False)
    assert await person.say("早上好") == say("welcome", menu=say("menu"), privacy=say("privacy.pointer"))


async def test_an_unsure_reading_asks_which_of_two_and_the_number_starts_it(resident, knowledge, say, consented):
    text = "想了解下心理状况"  # a self-test or a person: the model is unsure between the two
    reading = knowledge.intents.read(text)
    choices = [reading.intent, reading.runner_up]
    assert not reading.sure and "assessment" in choices
    question = await resident.say(text)
    assert question == say("intents.clarify", first=say(f"intents.choice.{choices[0]}"),
                           second=say(f"intents.choice.{choices[1]}"))
    number = str(choices.index("assessment") + 1)
    assert (await resident.say(number)).startswith(first_line(say("assessment.choose", scales="")))


async def test_a_new_request_instead_of_a_choice_is_read_afresh(resident, services, say):
    await resident.say("我想了解一下")
    assert await resident.say("热线电话是多少") != say("fallback", menu=say("menu"))
    assert await services.states.get(resident.openid) is None


async def test_a_request_for_a_person_inside_a_flow_goes_through(resident, services):
    await resident.say("测评")
    await resident.say("我不想做了，想找个真人聊聊")
    assert await cases(services) == ["resident_request"]


async def test_exact_words_still_win_over_the_reading(resident, say, consented):
    assert (await resident.say("1")).startswith(first_line(say("assessment.choose", scales="")))
    assert await resident.say("订阅") == say("tips.subscribed")


async def test_each_reading_is_kept_beside_the_message(resident, services):
    await resident.say("最近有什么活动")
    await resident.say("人工智能会取代人类吗")
    async with services.db() as session:
        rows = (await session.execute(select(IntentRead.intent, IntentRead.action, IntentRead.platform_msg_id)
                                      .order_by(IntentRead.id))).all()
    assert [(intent, action) for intent, action, _ in rows] == [("events", "acted"), ("unclear", "unclear")]
    assert all(msg_id for *_, msg_id in rows)
