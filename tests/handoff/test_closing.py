"""Closing follows up (issue 14 item 4), through the console API, the webhook and the scheduler's job:
the close form's rules, the check-in the scheduler sends by the chosen channel, the follow-up list,
and the resident's next message after a close (safe now / talk again, then 1-5 satisfaction).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import localtime
from bot.db import utcnow
from bot.mock_wechat.state import Fault
from handoff.models import Case, FollowUp
from scheduler.jobs import follow_ups, scheduled
from scheduler.outreach import Outreach
from bot.config import SchedulerSettings
from tests.handoff.conftest import sent_texts


async def active_case(platform, counsellor, openid: str, text: str = "人工") -> int:
    await platform.text(openid, text)
    status, taken = await counsellor.post("/console/api/take")
    assert status == 200, taken
    return taken["case"]["id"]


async def set_level(services, case_id: int, level: int) -> None:
    async with services.db.begin() as session:
        (await session.get(Case, case_id)).level = level


def local_input(at) -> str:
    return localtime.local(at).strftime("%Y-%m-%dT%H:%M")


async def test_a_level_2_case_cannot_close_without_a_summary(platform, services, staff_client):
    counsellor = await staff_client("c1")
    case_id = await active_case(platform, counsellor, "o-sum")
    await set_level(services, case_id, 2)
    status, answer = await counsellor.post(f"/console/api/cases/{case_id}/close",
                                           {"outcome": "resolved", "risk_rating": 1, "summary": "  "})
    assert status == 409 and "小结" in answer["error"]
    status, _ = await counsellor.post(f"/console/api/cases/{case_id}/close",
                                      {"outcome": "resolved", "risk_rating": 1, "summary": "谈过，情绪平稳"})
    assert status == 200


async def test_a_level_1_case_closes_without_a_summary(platform, services, staff_client):
    counsellor = await staff_client("c1")
    case_id = await active_case(platform, counsellor, "o-nosum")
    status, _ = await counsellor.post(f"/console/api/cases/{case_id}/close", {"outcome": "resolved", "risk_rating": 0})
    assert status == 200


async def test_the_scheduler_sends_the_check_in_when_due_and_it_lands_on_the_counsellors_list(
        platform, services, staff_client, mock_wechat):
    counsellor, other = await staff_client("c1"), await staff_client("c2")
    case_id = await active_case(platform, counsellor, "o-fu")
    due = utcnow() + timedelta(days=3)
    status, _ = await counsellor.post(f"/console/api/cases/{case_id}/close", {
        "outcome": "follow_up", "risk_rating": 1, "summary": "约好回访",
        "follow_up": {"at": local_input(due), "channel": "cs", "to": "me"}})
    assert status == 200
    closing = [t for t in sent_texts(mock_wechat, "o-fu") if "对话已结束" in t]
    assert closing and localtime.fmt(due.replace(second=0, microsecond=0)) in closing[-1]  # told a follow-up is planned

    out = Outreach(services, SchedulerSettings())
    assert await follow_ups(out, (due - timedelta(minutes=5)).isoformat()) == []  # not yet due
    assert not any("最近怎么样" in t for t in sent_texts(mock_wechat, "o-fu"))
    [sent] = await scheduled(out, "follow_ups", (due + timedelta(minutes=1)).isoformat())  # as the job store runs it
    assert await follow_ups(out, (due + timedelta(minutes=2)).isoformat()) == []  # once
    assert sum("最近怎么样" in t for t in sent_texts(mock_wechat, "o-fu")) == 1

    _, mine = await counsellor.get("/console/api/follow-ups")
    assert [(f["id"], f["case_id"], f["error"]) for f in mine["follow_ups"]] == [(sent, case_id, "")]
    _, theirs = await other.get("/console/api/follow-ups")
    assert theirs["follow_ups"] == []  # on the counsellor's own list, not everyone's
    status, _ = await other.post(f"/console/api/follow-ups/{sent}/done")
    assert status == 409
    status, _ = await counsellor.post(f"/console/api/follow-ups/{sent}/done")
    assert status == 200
    assert (await counsellor.get("/console/api/follow-ups"))[1]["follow_ups"] == []


async def test_a_pool_check_in_goes_by_template_message_and_shows_on_everyones_list(
        platform, services, staff_client, mock_wechat):
    counsellor, other = await staff_client("c1"), await staff_client("c2")
    case_id = await active_case(platform, counsellor, "o-tpl")
    due = utcnow() + timedelta(days=5)
    status, _ = await counsellor.post(f"/console/api/cases/{case_id}/close", {
        "outcome": "follow_up", "risk_rating": 1, "summary": "五天后回访",
        "follow_up": {"at": local_input(due), "channel": "template", "to": "pool"}})
    assert status == 200
    await follow_ups(Outreach(services, SchedulerSettings()), (due + timedelta(minutes=1)).isoformat())
    [template] = [m for m in mock_wechat.state.sent_to("o-tpl") if m["kind"] == "template"]
    assert "最近怎么样" in template["payload"]["data"]["first"]["value"]
    _, theirs = await other.get("/console/api/follow-ups")
    assert [f["case_id"] for f in theirs["follow_ups"]] == [case_id] and theirs["follow_ups"][0]["pool"]


async def test_a_check_in_refused_by_the_platform_is_kept_with_its_error(platform, services, staff_client,
                                                                        mock_wechat):
    counsellor = await staff_client("c1")
    case_id = await active_case(platform, counsellor, "o-err")
    async with services.db.begin() as session:
        session.add(FollowUp(case_id=case_id, resident_id=(await session.get(Case, case_id)).resident_id,
                             due_at=utcnow() - timedelta(minutes=1), channel="template", staff_id=counsellor.id))
    mock_wechat.state.faults.append(Fault(path="/cgi-bin/message/template/send", errcode=43101))  # user refused
    await follow_ups(Outreach(services, SchedulerSettings()))
    _, mine = await counsellor.get("/console/api/follow-ups")
    assert mine["follow_ups"][0]["error"].startswith("43101")


async def test_a_follow_up_time_in_the_past_is_refused(platform, services, staff_client):
    counsellor = await staff_client("c1")
    case_id = await active_case(platform, counsellor, "o-past")
    status, answer = await counsellor.post(f"/console/api/cases/{case_id}/close", {
        "outcome": "follow_up", "risk_rating": 1, "summary": "x",
        "follow_up": {"at": local_input(utcnow() - timedelta(hours=1)), "channel": "cs", "to": "me"}})
    assert status == 409 and "回访时间" in answer["error"]


async def test_the_next_message_after_a_close_asks_if_the_resident_is_safe_then_rates_the_case(
        platform, services, staff_client):
    counsellor = await staff_client("c1")
    case_id = await active_case(platform, counsellor, "o-after")
    await counsellor.post(f"/console/api/cases/{case_id}/close", {"outcome": "resolved", "risk_rating": 0})
    answer = await platform.text("o-after", "我最近睡不好")
    assert "我现在是安全的" in answer.text and "再找人聊聊" in answer.text
    assert "1-5" in (await platform.text("o-after", "1")).text
    assert "请回复 1 到 5" in (await platform.text("o-after", "9")).text
    assert "谢谢您的评价" in (await platform.text("o-after", "4")).text
    async with services.db() as session:
        assert (await session.get(Case, case_id)).satisfaction == 4
    assert "我现在是安全的" not in (await platform.text("o-after", "我最近睡不好")).text  # asked once


async def test_talk_again_after_a_close_opens_a_new_case(platform, services, staff_client):
    counsellor = await staff_client("c1")
    case_id = await active_case(platform, counsellor, "o-again")
    await counsellor.post(f"/console/api/cases/{case_id}/close", {"outcome": "resolved", "risk_rating": 0})
    assert "再找人聊聊" in (await platform.text("o-again", "嗯")).text
    answer = await platform.text("o-again", "2")
    assert "第 1 位" in answer.text
    async with services.db() as session:
        new = await session.scalar(select(Case).where(Case.id != case_id))
    assert new.status == "waiting" and new.reason == "after_close"


async def test_the_after_close_question_is_only_kept_for_24_hours(platform, services, staff_client):
    counsellor = await staff_client("c1")
    case_id = await active_case(platform, counsellor, "o-ttl")
    await counsellor.post(f"/console/api/cases/{case_id}/close", {"outcome": "resolved", "risk_rating": 0})
    ttl = await services.redis.ttl(services.states.key("o-ttl", "flow"))
    assert 24 * 3600 - 60 < ttl <= 24 * 3600
