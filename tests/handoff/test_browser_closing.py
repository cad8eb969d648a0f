"""In Chromium: a counsellor closes a case with a follow-up; the resident is told, answers the
after-close question and rates the case; the scheduler's job sends the check-in through the mock
WeChat API when it is due, and it lands on the counsellor's follow-up list until marked done.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from bot import localtime
from bot.appkeys import SERVICES
from handoff.models import Case
from scheduler.jobs import follow_ups
from scheduler.outreach import Outreach
from bot.config import SchedulerSettings
from tests.handoff.test_browser import TIMEOUT, a_case_taken_by_wang, browser, logged_in, server  # noqa: F401


async def test_close_with_follow_up_and_the_check_in_sent_by_the_scheduler(server, browser, mock_wechat):  # noqa: F811
    base = str(server.make_url("")).rstrip("/")
    services = server.app[SERVICES]
    resident, wang, case_id = await a_case_taken_by_wang(browser, base)
    async with services.db.begin() as session:
        (await session.get(Case, case_id)).level = 2
    await wang.click("#mine [data-case]")
    await wang.wait_for_selector("#summary[required]", timeout=TIMEOUT)

    await wang.select_option("#outcome", "follow_up")
    await wang.wait_for_selector("#follow-up-row:not([hidden])", timeout=TIMEOUT)
    due = localtime.local(datetime.now(localtime.zone()) + timedelta(days=3)).replace(second=0, microsecond=0)
    await wang.fill("#follow-up-at", due.strftime("%Y-%m-%dT%H:%M"))
    await wang.select_option("#follow-up-channel", "cs")
    await wang.click("#close")
    await wang.wait_for_selector("#action-error >> text=必须填写结案小结", timeout=TIMEOUT)
    await wang.fill("#summary", "情绪平稳，三天后回访")
    await wang.click("#close")
    await wang.wait_for_selector("#chat-status >> text=已结案", timeout=TIMEOUT)
    await resident.wait_for_selector(f"#chat >> text={due:%Y-%m-%d %H:%M} 左右", timeout=TIMEOUT)

    # The resident's next message: safe now or talk again, then the 1-5 question, recorded with the case.
    await resident.fill("#text", "嗯")
    await resident.click("#send")
    await resident.wait_for_selector("#chat >> text=我现在是安全的", timeout=TIMEOUT)
    await resident.fill("#text", "1")
    await resident.click("#send")
    await resident.wait_for_selector("#chat >> text=请回复 1-5 打分", timeout=TIMEOUT)
    await resident.fill("#text", "5")
    await resident.click("#send")
    await resident.wait_for_selector("#chat >> text=谢谢您的评价", timeout=TIMEOUT)
    async with services.db() as session:
        assert (await session.get(Case, case_id)).satisfaction == 5

    # Due: the scheduler's job sends the check-in through the (mock) customer-service API.
    out = Outreach(services, SchedulerSettings())
    assert await follow_ups(out, (due - timedelta(minutes=1)).isoformat()) == []
    assert len(await follow_ups(out, (due + timedelta(minutes=1)).isoformat())) == 1
    checkins = [m for m in mock_wechat.state.sent if "最近怎么样" in m["payload"].get("text", {}).get("content", "")]
    assert len(checkins) == 1
    await resident.wait_for_selector("#chat >> text=想问问您最近怎么样", timeout=TIMEOUT)

    # It is on the counsellor's follow-up list (arrives live) until done.
    await wang.wait_for_selector(f"#follow-ups [data-follow-up] >> text=个案 #{case_id}", timeout=TIMEOUT)
    await wang.click("#follow-ups [data-follow-up] button")
    await wang.wait_for_selector("#follow-ups-card[hidden]", state="attached", timeout=TIMEOUT)
