"""Level 2 through the real webhook: care, the C-SSRS questions one per message, and where the answers lead."""
from __future__ import annotations

from flows.safety import enter_safety_check
from handoff.detections import detections_for, mark_false_alarm
from handoff.cases import resident_ref
from tests.consent import consent_in_chat
from tests.safety.conftest import cases_of, resident_id

PASSIVE = "我觉得活着没意思"
Q1 = "希望自己已经死了"
Q2 = "想要结束自己生命的念头"
Q3 = "用什么方法"
Q4 = "真的想去做的打算"
Q6 = "过去三个月里"


async def test_level_2_answers_with_care_and_the_first_question(services, say):
    reply = await say("o-check", PASSIVE)
    assert "谢谢您愿意说出来" in reply and Q1 in reply and "“是”或“否”" in reply
    assert await cases_of(services, "o-check") == []
    [found] = await detections_for(services, await resident_id(services, "o-check"))
    assert found.level == 2 and found.action == "safety_check" and "活着没意思" in found.matched


async def test_yes_to_thoughts_hands_off_and_yes_to_intent_escalates_to_4(services, say, on_duty, console_events):
    await on_duty()
    await say("o-esc", PASSIVE)
    assert Q2 in await say("o-esc", "是")
    reply = await say("o-esc", "是的")
    assert "正在为您联系值班咨询师" in reply and "在等待的时候" in reply and Q3 in reply
    assert [c.level for c in await cases_of(services, "o-esc")] == [3]
    assert Q4 in await say("o-esc", "没有")
    reply = await say("o-esc", "有")
    assert "咨询师会看到您的回答" in reply and "110" in reply
    [case] = await cases_of(services, "o-esc")
    assert case.level == 4 and "intent" in case.evidence
    assert [e["case_id"] for e in await console_events() if e["type"] == "alert"] == [case.id]
    [found] = await detections_for(services, case.resident_id)
    assert found.screened_level == 4 and found.action == "supervisor_alerted" and found.case_id == case.id


async def test_all_no_ends_with_care_resources_and_the_offer_of_a_counsellor(services, say, on_duty):
    await on_duty()
    await say("o-no", PASSIVE)
    assert Q2 in await say("o-no", "否")
    assert Q6 in await say("o-no", "没有")
    reply = await say("o-no", "2")
    assert "谢谢您一一回答" in reply and "12356" in reply and "站点" in reply and "咨询师" in reply
    assert await cases_of(services, "o-no") == []
    [found] = await detections_for(services, await resident_id(services, "o-no"))
    assert found.screened_level == 1 and found.action == "safety_check"
    assert "排在第 1 位" in await say("o-no", "是")
    assert [c.level for c in await cases_of(services, "o-no")] == [1]


async def test_a_declined_offer_is_respected(services, say):
    await say("o-decline", PASSIVE)
    for answer in ("否", "否", "否"):
        await say("o-decline", answer)
    assert "随时回复“咨询师”" in await say("o-decline", "不用")
    assert await cases_of(services, "o-decline") == []


async def test_asking_for_a_counsellor_during_the_check_hands_off_at_once(services, say, on_duty):
    await on_duty()
    await say("o-ask", PASSIVE)
    reply = await say("o-ask", "咨询师")
    assert "排在第 1 位" in reply and "12356" in reply
    assert [c.level for c in await cases_of(services, "o-ask")] == [2]


async def test_an_unclear_answer_is_asked_again_once_then_the_check_lets_go(services, say):
    await say("o-unclear", PASSIVE)
    reply = await say("o-unclear", "不知道")
    assert "没关系" in reply and Q1 in reply
    reply = await say("o-unclear", "我也说不上来，就是很累")
    assert "我们先不问了" in reply and "12356" in reply and "咨询师" in reply


async def test_earlier_risk_raises_the_reading_of_what_follows(services, say, on_duty):
    await on_duty()
    alone = await say("o-alone", "我已经攒了二十片了")
    assert "我们在这里" not in alone and await cases_of(services, "o-alone") == []
    await say("o-context", PASSIVE)
    reply = await say("o-context", "我已经攒了二十片了")
    assert "我们在这里" in reply and "110" in reply
    assert [c.level for c in await cases_of(services, "o-context")] == [4]
    levels = [(d.level, d.action) for d in await detections_for(services, await resident_id(services, "o-context"))]
    assert levels == [(4, "supervisor_alerted"), (2, "safety_check")]


async def test_hyperbole_gets_no_safety_response(services, say):
    reply = await say("o-tired", "今天加班累死了")
    assert "谢谢您愿意说出来" not in reply and "我们在这里" not in reply
    assert await detections_for(services, await resident_id(services, "o-tired")) == []


async def test_a_crisis_message_inside_an_assessment_gets_the_safety_path_and_the_assessment_survives(
        services, say):
    await consent_in_chat(say, "o-phq")
    await say("o-phq", "测评")
    await say("o-phq", "1")
    before = await services.states.get("o-phq")
    assert before is not None and before.flow == "assessment"
    reply = await say("o-phq", "我真的不想活了")
    assert "谢谢您愿意说出来" in reply and Q1 in reply
    after = await services.states.get("o-phq")
    assert (after.flow, after.state, after.data) == (before.flow, before.state, before.data)
    for answer in ("否", "否", "否"):
        await say("o-phq", answer)
    assert await services.states.get("o-phq", slot="safety") is not None  # the offer waits for a reply
    await say("o-phq", "1")  # a digit goes back to the assessment
    resumed = await services.states.get("o-phq")
    assert resumed.flow == "assessment" and resumed.data != before.data


async def test_a_scale_safety_item_enters_the_same_check(services, say):
    await say("o-scale", "你好")
    ref = await resident_ref(services, await resident_id(services, "o-scale"))
    replies = await enter_safety_check(services, ref, reason="assessment:PHQ-9:item9")
    assert Q1 in "\n".join(r.text for r in replies)
    assert Q2 in await say("o-scale", "是")
    [found] = await detections_for(services, ref.id)
    assert found.source == "assessment:PHQ-9:item9" and found.level == 2 and found.message_id is None


async def test_a_resident_who_stops_answering_is_not_chased_but_is_on_record(services, say, mock_wechat):
    await say("o-quiet", PASSIVE)
    assert mock_wechat.state.sent_to("o-quiet") == []  # nothing follows up through the customer-service API
    [found] = await detections_for(services, await resident_id(services, "o-quiet"))
    assert found.level == 2 and found.action == "safety_check"


async def test_a_false_alarm_marking_is_kept(services, say, on_duty):
    staff_id = await on_duty("c-marker")
    await say("o-false", "我想自杀")
    [case] = await cases_of(services, "o-false")
    assert await mark_false_alarm(services, case_id=case.id, staff_id=staff_id) == 1
    [found] = await detections_for(services, case.resident_id)
    assert found.false_alarm and found.marked_by == staff_id and found.marked_at is not None
    await mark_false_alarm(services, detection_id=found.id, staff_id=staff_id)
    assert (await detections_for(services, case.resident_id))[0].false_alarm
