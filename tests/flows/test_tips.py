"""Psychoeducation: topics, Chinese search without spaces, text or news answers, the daily tip."""
from __future__ import annotations

from sqlalchemy import select

from bot.models import Resident, ResidentTag


async def test_topics_list_every_topic_of_the_library(resident, knowledge):
    reply = await resident.say("科普")
    for number, topic in enumerate(knowledge.tips.topics(), 1):
        assert f"{number} {topic.name.zh_hans}" in reply


async def test_a_topic_lists_its_tips_and_a_number_reads_one(resident, knowledge):
    topics = knowledge.tips.topics()
    sleep = next(i for i, t in enumerate(topics, 1) if t.id == "sleep")
    listing = await resident.answers("科普", str(sleep))
    tips = knowledge.tips.by_topic("sleep")
    assert f"1 {tips[0].title.zh_hans}" in listing
    reply = await resident.say("2")
    assert tips[1].title.zh_hans in reply and tips[1].body.zh_hans in reply


async def test_chinese_question_without_spaces_finds_the_right_tip(resident):
    reply = await resident.answers("科普", "躺下好久都睡不着怎么办")
    assert reply.startswith("躺下睡不着，怎么办？")


async def test_search_results_offer_related_tips_to_read_by_number(resident, knowledge):
    reply = await resident.answers("科普", "考试前很紧张")
    found = knowledge.tips.search("考试前很紧张", "zh-Hans", limit=4)
    assert reply.startswith(found[0].title.zh_hans)
    assert f"1 {found[1].title.zh_hans}" in reply
    assert (await resident.say("1")).startswith(found[1].title.zh_hans)


async def test_traditional_chinese_search_works(resident):
    await resident.say("繁體")
    reply = await resident.answers("科普", "睡不著怎麼辦")
    assert reply.startswith("躺下睡不") and "怎麼辦" in reply


async def test_a_search_with_no_match_says_so_and_lists_topics(resident, say):
    reply = await resident.answers("科普", "qwxz")
    assert reply.startswith(say("tips.no_match", topics="").split("\n")[0])


async def test_a_tip_with_an_article_is_a_news_reply(resident, knowledge, services):
    from flows.context import Ctx
    from flows.tips import tip_reply
    from knowledge.tips import Tip

    tip = knowledge.tips.by_topic("sleep")[0]
    linked = Tip(**{**tip.__dict__, "url": "https://example.org/sleep"})
    reply = tip_reply(Ctx(services, None, "zh-Hans"), linked)
    assert reply.kind == "news" and reply.articles[0].url == "https://example.org/sleep"
    assert tip_reply(Ctx(services, None, "en"), tip).text.startswith(tip.title.en)


async def tags(services, openid: str) -> set[str]:
    async with services.db() as session:
        rows = await session.scalars(select(ResidentTag.tag).join(Resident, Resident.id == ResidentTag.resident_id)
                                     .where(Resident.openid == openid))
        return set(rows)


async def test_subscribe_and_unsubscribe_the_daily_tip(resident, services, say):
    assert await resident.answers("科普", "订阅") == say("tips.subscribed")
    assert "daily_tip" in await tags(services, resident.openid)
    assert await resident.say("订阅") == say("tips.subscribed")  # twice is once
    assert await resident.say("退订") == say("tips.unsubscribed")
    assert "daily_tip" not in await tags(services, resident.openid)
