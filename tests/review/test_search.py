"""Search: Chinese words without spaces, the filters, and keyset pagination."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.db import utcnow
from bot.models import Conversation, Message, Resident, ResidentTag
from handoff.models import Case
from handoff.review.search import bigrams


async def hits(who, query: str) -> dict:
    resp = await who.get("/review/api/search?" + query)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_a_chinese_word_is_found_inside_a_sentence_without_spaces(staff, world):
    found = (await hits(staff["sup"], "q=失眠"))["hits"]
    assert [h["content"] for h in found] == ["我最近一直失眠，睡不着，电话13812345678"]
    assert found[0]["openid"] == "o-alice"


async def test_several_words_must_all_appear(staff, world):
    assert len((await hits(staff["sup"], "q=失眠 睡不着"))["hits"]) == 1
    assert (await hits(staff["sup"], "q=失眠 心情"))["hits"] == []


async def test_a_single_character_and_latin_letters_are_found(staff, world, platform):
    await platform.text("o-dave", "I feel ANXIOUS today")
    assert len((await hits(staff["sup"], "q=眠"))["hits"]) == 1
    assert [h["openid"] for h in (await hits(staff["sup"], "q=anxious"))["hits"]] == ["o-dave"]


async def test_like_wildcards_in_the_words_are_literal(staff, world):
    assert (await hits(staff["sup"], "q=%25"))["hits"] == []
    assert (await hits(staff["sup"], "q=_"))["hits"] == []


async def test_filters_by_resident_counsellor_outcome_level_and_tags(staff, world, services):
    sup = staff["sup"]
    assert {h["openid"] for h in (await hits(sup, "openid=o-carol"))["hits"]} == {"o-carol"}
    assert {h["openid"] for h in (await hits(sup, "counsellor=coun"))["hits"]} == {"o-alice"}
    assert {h["openid"] for h in (await hits(sup, "outcome=referred"))["hits"]} == {"o-alice"}
    assert {h["openid"] for h in (await hits(sup, "level=4"))["hits"]} == {"o-alice"}
    assert {h["openid"] for h in (await hits(sup, "level=1"))["hits"]} == {"o-alice"}
    async with services.db.begin() as session:
        (await session.get(Case, world.active_case)).status = "closed"
    assert {h["openid"] for h in (await hits(sup, "counsellor=coun2"))["hits"]} == {"o-bob"}
    assert {h["openid"] for h in (await hits(sup, "level=1"))["hits"]} == {"o-alice", "o-bob"}
    async with services.db.begin() as session:
        session.add(ResidentTag(resident_id=world.carol, tag="students"))
    assert {h["openid"] for h in (await hits(sup, "tags=students"))["hits"]} == {"o-carol"}


async def test_date_range_is_in_local_days(staff, world, services):
    today = (utcnow() + timedelta(hours=8)).date()
    assert len((await hits(staff["sup"], f"since={today}&until={today}"))["hits"]) >= 3
    assert (await hits(staff["sup"], f"until={today - timedelta(days=2)}"))["hits"] == []


async def test_a_bad_filter_is_named(staff, world):
    resp = await staff["sup"].get("/review/api/search?level=9")
    assert resp.status == 400 and "level" in await resp.text()
    resp = await staff["sup"].get("/review/api/search?after=garbage")
    assert resp.status == 400


async def test_keyset_pagination_walks_every_message_once(staff, world, services):
    start = utcnow() - timedelta(days=1)
    async with services.db.begin() as session:
        resident = await session.scalar(select(Resident).where(Resident.openid == "o-carol"))
        conv = await session.scalar(select(Conversation).where(Conversation.resident_id == resident.id))
        for i in range(23):  # three share one instant, so the id breaks the tie
            session.add(Message(conversation_id=conv.id, resident_id=resident.id, direction="in", sender="resident",
                                kind="text", content=f"第{i}条 分页测试", created_at=start + timedelta(minutes=i // 3 * 3)))
    seen, after, pages = [], "", 0
    while True:
        page = await hits(staff["sup"], f"q=分页测试&limit=10&after={after}")
        seen += [h["message_id"] for h in page["hits"]]
        pages += 1
        if not page["next"]:
            break
        after = page["next"]
    assert pages == 3 and len(seen) == 23 and len(set(seen)) == 23
    async with services.db() as session:
        ordered = list(await session.scalars(select(Message.id).where(Message.content.like("%分页测试"))
                                             .order_by(Message.created_at.desc(), Message.id.desc())))
    assert seen == ordered


async def test_the_search_page_shows_results_and_a_next_link(staff, world):
    page = await staff["rev"].get("/review?q=失眠")
    body = await page.text()
    assert page.status == 200 and "我最近一直失眠" in body and f"/review/conversations/{world.closed_conv}" in body


def test_query_bigrams_match_the_database_function():
    assert bigrams("失眠") == ["失眠"]
    assert bigrams("Abc") == ["ab", "bc"] and bigrams("眠") == []


async def test_words_are_found_in_what_people_wrote_not_in_the_services_replies(staff, world, services):
    async with services.db() as session:  # every new resident's welcome gave the hotline number
        bot_lines = list(await session.scalars(select(Message.content).where(Message.sender == "bot")))
    assert any("12356" in line for line in bot_lines)
    assert (await hits(staff["sup"], "q=12356"))["hits"] == []
