"""A scale's safety item above zero in the chat: one case, and the C-SSRS check while the resident waits."""
from __future__ import annotations

from handoff.detections import detections_for
from handoff.cases import claim
from handoff.queue import CaseQueue
from tests.consent import consent_in_chat
from tests.flows.test_assessment import number_of
from tests.safety.conftest import cases_of

Q1 = "希望自己已经死了"
Q2 = "想要结束自己生命的念头"
WHILE_WAITING = "在等待的时候，想再问您几个问题"
OFFER = "和咨询师聊聊吗"


async def item9_positive(say, openid: str) -> str:
    """PHQ-9 with every item 0 but item 9 ("better off dead") at 1; the reply to the last answer."""
    await consent_in_chat(say, openid)
    await say(openid, "测评")
    await say(openid, number_of("PHQ-9"))
    for answer in [0] * 8:
        await say(openid, str(answer))
    return await say(openid, "1")


async def test_a_positive_item_9_queues_one_case_and_asks_the_first_check_question(
        services, say, on_duty, console_events):
    await on_duty()
    reply = await item9_positive(say, "o-item9")
    assert "您在其中一道题里提到" in reply and "排在第 1 位" in reply and "12356" in reply
    assert WHILE_WAITING in reply and reply.rstrip().endswith("（请回复“是”或“否”）") and Q1 in reply
    [case] = await cases_of(services, "o-item9")
    assert (case.level, case.reason, case.status) == (2, "assessment:PHQ-9:item9_positive", "waiting")
    assert "PHQ-9 item 9 = 1" in case.evidence
    assert await CaseQueue(services.redis).waiting() == [case.id]
    assert [e["case_id"] for e in await console_events() if e["type"] == "queued"] == [case.id]
    [found] = await detections_for(services, case.resident_id)
    assert (found.source, found.action, found.case_id) == ("assessment:PHQ-9:item9_positive", "safety_check", case.id)


async def test_check_answers_that_reach_active_thoughts_raise_the_same_case_at_once(services, say, on_duty):
    await on_duty()
    await item9_positive(say, "o-item9-up")
    assert Q2 in await say("o-item9-up", "是")
    reply = await say("o-item9-up", "是的")
    assert "我们在这里" in reply and "排在最前面" in reply and "110" in reply
    [case] = await cases_of(services, "o-item9-up")
    assert case.level == 3 and "C-SSRS" in case.evidence


async def test_a_check_that_stays_low_ends_with_the_counsellor_coming_not_an_offer(services, say, on_duty):
    await on_duty()
    await item9_positive(say, "o-item9-low")
    reply = ""
    for answer in ("否", "否", "否"):
        reply = await say("o-item9-low", answer)
    assert "咨询师会看到您的回答" in reply and OFFER not in reply
    assert await services.states.get("o-item9-low", slot="safety") is None
    assert [(c.level, c.status) for c in await cases_of(services, "o-item9-low")] == [(2, "waiting")]


async def test_once_a_counsellor_takes_the_case_the_check_lets_the_messages_through(services, say, on_duty):
    staff_id = await on_duty()
    await item9_positive(say, "o-item9-claimed")
    [case] = await cases_of(services, "o-item9-claimed")
    assert (await claim(services, staff_id)).case.id == case.id
    assert await say("o-item9-claimed", "是") == ""  # the counsellor answers now, not the check
    assert await services.states.get("o-item9-claimed", slot="safety") is None


async def test_with_nobody_on_duty_the_case_still_opens_and_the_check_still_asks(services, say):
    reply = await item9_positive(say, "o-item9-night")
    assert "回电" in reply and Q1 in reply
    [case] = await cases_of(services, "o-item9-night")
    assert case.level == 2 and case.fallback_at is not None
    assert OFFER in "".join([await say("o-item9-night", answer) for answer in ("否", "否", "否")])
