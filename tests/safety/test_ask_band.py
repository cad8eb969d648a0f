"""The uncertain band: the bot asks "你是不是有结束生命的想法？" and the answer decides; and risk spread over
several short messages is read together. Through the real webhook, with the shipped detector."""
from __future__ import annotations

import functools

import pytest
from sqlalchemy import select

from handoff.detections import CrisisDetection
from flows.safety.web import detector
from tests.safety.conftest import cases_of, wait_for

# Everyday sadness and vague heaviness: somewhere among them the shipped model is unsure.
CANDIDATES = ["最近什么都不想做", "活着好累啊", "感觉自己是个多余的人", "我好想消失一段时间", "好累，不想再撑了",
              "没有人会在乎我吧", "真想一觉睡过去", "每天都过得好没意思", "我撑不下去了", "我觉得自己好没用",
              "i'm so tired of everything", "有时候觉得没有我大家会更好", "不知道这样活着有什么意义", "心好累不想说话",
              "好想睡很久很久", "我感觉好空", "what's the point anymore", "一切都没意义了"]


@functools.cache
def uncertain_message() -> str:
    for text in CANDIDATES:
        risk = detector().scan(text)
        if risk.ask and risk.level == 1:
            return text
    pytest.fail("none of the candidate messages reads in the uncertain band; extend CANDIDATES")


async def detections(services, action: str) -> list[CrisisDetection]:
    async with services.db() as session:
        return list(await session.scalars(select(CrisisDetection).where(CrisisDetection.action == action)))


async def test_the_uncertain_band_asks_directly(services, say):
    reply = await say("o-ask", uncertain_message())
    assert "你是不是有结束生命的想法" in reply
    [asked] = await detections(services, "asked")
    assert asked.level == 1


async def test_yes_takes_the_urgent_path(services, say, on_duty):
    await on_duty()
    await say("o-ask-yes", uncertain_message())
    reply = await say("o-ask-yes", "是")
    assert "110" in reply and "12356" in reply
    assert await wait_for(lambda: cases_of(services, "o-ask-yes"))
    [case] = await cases_of(services, "o-ask-yes")
    assert case.level == 3
    [asked] = await detections(services, "asked")
    assert asked.screened_level == 3


async def test_no_lets_the_conversation_go_on(services, say):
    await say("o-ask-no", uncertain_message())
    reply = await say("o-ask-no", "没有")
    assert "谢谢你告诉我" in reply
    assert await cases_of(services, "o-ask-no") == []
    menu = await say("o-ask-no", "菜单")
    assert "结束生命" not in menu  # the question is over


async def test_no_answer_is_asked_again_once_then_a_counsellor_is_offered(services, say):
    await say("o-ask-quiet", uncertain_message())
    again = await say("o-ask-quiet", "今天下雨了")
    assert "有没有想过结束自己的生命" in again
    offer = await say("o-ask-quiet", "你们几点下班")
    assert "咨询师" in offer and "12356" in offer and "结束" not in offer.split("\n")[0]
    assert await cases_of(services, "o-ask-quiet") == []


async def test_risk_spread_over_short_messages_is_read_together(services, say, on_duty):
    await on_duty()
    parts = ["我想好了", "今晚", "药够了"]
    assert all(detector().scan(p).level < 2 for p in parts)  # each alone is only asked about
    first = await say("o-spread", parts[0])
    assert "结束生命" in first
    reply = await say("o-spread", parts[1])
    assert "110" in reply
    [case] = await cases_of(services, "o-spread")
    assert case.level >= 3


def test_the_same_short_messages_from_a_calm_conversation_stay_calm():
    assert detector().scan("就今晚", recent=["周末电影几点开始", "好的，那我买票"]).level < 2
