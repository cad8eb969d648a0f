"""Level 3 and 4 through the real webhook: the emergency reply, the priority handoff, the supervisor alert."""
from __future__ import annotations

from handoff.detections import detections_for
from handoff.queue import CaseQueue
from tests.platform import message_xml
from tests.safety.conftest import cases_of, resident_id

LEVEL_4 = "我已经写好遗书，今晚就从楼顶跳下去"
LEVEL_3 = "我想自杀"


async def test_level_4_gets_the_emergency_reply_and_the_head_of_the_queue_with_a_supervisor_alert(
        services, say, on_duty, console_events):
    await on_duty()
    await say("o-calm", "人工")
    reply = await say("o-l4", LEVEL_4)
    assert "我们在这里" in reply and "12356" in reply and "110" in reply and "120" in reply
    assert "排在最前面" in reply
    [case] = await cases_of(services, "o-l4")
    assert case.level == 4 and case.reason == "crisis" and "楼顶跳" in case.evidence
    assert (await CaseQueue(services.redis).waiting())[0] == case.id
    alerts = [e for e in await console_events() if e["type"] == "alert"]
    assert [a["case_id"] for a in alerts] == [case.id]


async def test_level_3_starts_a_priority_handoff_without_an_alert(services, say, on_duty, console_events):
    await on_duty()
    reply = await say("o-l3", LEVEL_3)
    assert "正在为您联系值班咨询师" in reply and "12356" in reply
    [case] = await cases_of(services, "o-l3")
    assert case.level == 3 and case.status == "waiting"
    assert not [e for e in await console_events() if e["type"] == "alert"]


async def test_detections_are_recorded_with_the_evidence_and_the_action_taken(services, say, on_duty):
    await on_duty()
    await say("o-rec", LEVEL_4)
    [case] = await cases_of(services, "o-rec")
    [found] = await detections_for(services, await resident_id(services, "o-rec"))
    assert found.level == 4 and found.action == "supervisor_alerted" and found.case_id == case.id
    assert "从楼顶跳" in found.matched and "method_with_plan" in found.reason
    assert found.text == LEVEL_4 and found.message_id and not found.false_alarm


async def test_with_nobody_on_duty_the_resident_still_gets_the_numbers_and_a_queued_case(services, say):
    reply = await say("o-night", LEVEL_4)
    assert "正在为您联系" not in reply
    assert "12356" in reply and "110" in reply and "回电" in reply
    [case] = await cases_of(services, "o-night")
    assert case.level == 4 and case.fallback_at is not None


async def test_an_open_case_is_raised_and_the_safety_reply_is_not_repeated(services, say, on_duty, console_events):
    await on_duty()
    await say("o-open", "人工")
    reply = await say("o-open", LEVEL_4)
    assert reply == ""  # the case is waiting: the counsellor answers, the bot is silent
    [case] = await cases_of(services, "o-open")
    assert case.level == 4
    assert [e["case_id"] for e in await console_events() if e["type"] == "alert"] == [case.id]
    [found] = await detections_for(services, case.resident_id)
    assert found.action == "open_case" and found.case_id == case.id


async def test_traditional_chinese_residents_get_the_reply_in_traditional(services, say, on_duty):
    await on_duty()
    reply = await say("o-hant", "我想結束自己的生命")
    assert "我們在這裡" in reply and "12356" in reply


async def test_english_residents_get_the_reply_in_english(services, say, on_duty):
    await on_duty()
    reply = await say("o-en", "I want to kill myself")
    assert "You are not alone" in reply and "12356" in reply and "110" in reply


async def test_a_voice_transcription_is_scanned_like_text(services, platform, on_duty):
    await on_duty()
    answer = await platform.send_xml(message_xml("o-voice", "voice", {
        "MediaId": "media-1", "Format": "amr", "Recognition": LEVEL_3}))
    assert "12356" in answer.text
    assert [c.level for c in await cases_of(services, "o-voice")] == [3]


async def test_other_kinds_are_not_scanned_and_pass_on_without_error(services, platform):
    sent = [
        message_xml("o-kinds", "image", {"PicUrl": "http://x/p.jpg", "MediaId": "m-img"}),
        message_xml("o-kinds", "voice", {"MediaId": "m-voice", "Format": "amr"}),
        message_xml("o-kinds", "location", {"Location_X": "30.1", "Location_Y": "120.2", "Scale": "15",
                                            "Label": "想死"}),
        message_xml("o-kinds", "event", {"Event": "CLICK", "EventKey": "MENU_TIPS"}),
    ]
    for xml in sent:
        answer = await platform.send_xml(xml)
        assert answer.status == 200
    assert await detections_for(services, await resident_id(services, "o-kinds")) == []
    assert await cases_of(services, "o-kinds") == []
