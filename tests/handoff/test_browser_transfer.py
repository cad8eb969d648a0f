"""Issue 14 items 2-3 and its failures in a real browser: a transfer accepted, refused and timed out;
a supervisor's whisper and take-over; a counsellor's browser closing on a level 3 case.

Each journey is a resident in the simulator, counsellors in their own Chromium contexts on the
console, and a supervisor on the supervisor view, all live over the console's socket.
"""
from __future__ import annotations

import pytest

from bot.appkeys import SERVICES
from bot.auth.users import add_user
from handoff import cases, transfers
from handoff.models import Case
from handoff.presence import Presence
from handoff.queue import now_ms
from handoff.roster import set_weekly
from handoff.sweep import CONSOLE_GONE_AFTER_MS, requeue_vanished
from tests.handoff.conftest import PASSWORD
from tests.handoff.test_browser import (CHROMIUM, TIMEOUT, a_case_taken_by_wang, browser, logged_in,  # noqa: F401
                                        server)

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")


async def colleagues(services) -> dict[str, int]:
    """李老师 (a counsellor) and 周督导 (a supervisor), on duty round the clock; 王咨询师 is the server's."""
    ids = {}
    for username, name, role in (("li", "李老师", "counsellor"), ("zhou", "周督导", "supervisor")):
        staff = await add_user(services.db, username, PASSWORD, [role], display_name=name)
        async with services.db.begin() as session:
            await set_weekly(session, staff.id, role, list(range(7)), "00:00", "24:00")
        ids[username] = staff.id
    return ids


async def offer_to_li(wang, li, ids, case_id):
    await li.wait_for_selector("#live.ok", timeout=TIMEOUT)
    await wang.wait_for_selector(f"#transfer-to option[value='{ids['li']}']", state="attached", timeout=TIMEOUT)
    await wang.select_option("#transfer-to", str(ids["li"]))
    await wang.click("#transfer")
    await wang.wait_for_selector("#transfer-state >> text=正在转接给 李老师", timeout=TIMEOUT)
    await wang.wait_for_selector(f"#mine [data-case='{case_id}'] >> text=转接中 → 李老师", timeout=TIMEOUT)
    await li.wait_for_selector(f"#offers [data-offer='{case_id}'] >> text=王咨询师 请求把个案转给你", timeout=TIMEOUT)


async def test_a_transfer_accepted_moves_the_chat_to_the_receiver(server, browser):
    base, services = str(server.make_url("")).rstrip("/"), server.app[SERVICES]
    ids = await colleagues(services)
    resident, wang, case_id = await a_case_taken_by_wang(browser, base)
    li = await logged_in(browser, base, "/console", "li")
    await offer_to_li(wang, li, ids, case_id)

    await resident.fill("#text", "还在吗？")  # while the offer waits, the sender still has the resident
    await resident.click("#send")
    await wang.wait_for_selector("#msgs >> text=还在吗？", timeout=TIMEOUT)

    await li.click(f"#offers [data-offer='{case_id}'] .accept")
    await li.wait_for_selector("#composer:not([hidden])", timeout=TIMEOUT)
    await li.wait_for_selector("#msgs >> text=还在吗？", timeout=TIMEOUT)  # the whole conversation came along
    await wang.wait_for_selector("#notice >> text=接受转接", timeout=TIMEOUT)
    await wang.wait_for_selector("#chat-empty:not([hidden])", timeout=TIMEOUT)
    await wang.wait_for_selector("#mine >> text=暂无", timeout=TIMEOUT)

    await li.fill("#composer textarea", "你好，我是李老师，接下来由我陪你聊。")
    await li.click("#send")
    await resident.wait_for_selector("#chat >> text=接下来由我陪你聊", timeout=TIMEOUT)
    async with services.db() as session:
        case = await session.get(Case, case_id)
    assert (case.counsellor_id, case.status) == (ids["li"], "active")  # the case itself moved, not just the screens


async def test_a_refused_transfer_stays_with_the_sender_who_is_told(server, browser):
    base, services = str(server.make_url("")).rstrip("/"), server.app[SERVICES]
    ids = await colleagues(services)
    _, wang, case_id = await a_case_taken_by_wang(browser, base)
    li = await logged_in(browser, base, "/console", "li")
    await offer_to_li(wang, li, ids, case_id)

    await li.click(f"#offers [data-offer='{case_id}'] .refuse")
    await li.wait_for_selector("#offers-card", state="hidden", timeout=TIMEOUT)
    await wang.wait_for_selector("#notice >> text=李老师 没有接受", timeout=TIMEOUT)
    await wang.wait_for_selector("#transfer-state", state="hidden", timeout=TIMEOUT)
    await wang.wait_for_selector(f"#mine [data-case='{case_id}']", timeout=TIMEOUT)
    assert await wang.is_visible("#composer")
    assert await li.text_content("#mine") == "暂无"


async def test_a_transfer_nobody_accepts_in_time_comes_back_to_the_sender(server, browser):
    base, services = str(server.make_url("")).rstrip("/"), server.app[SERVICES]
    ids = await colleagues(services)
    _, wang, case_id = await a_case_taken_by_wang(browser, base)
    li = await logged_in(browser, base, "/console", "li")
    await offer_to_li(wang, li, ids, case_id)

    assert await transfers.expire(services, now_ms() + 61_000) == [case_id]  # the sweep's pass, a minute on
    await wang.wait_for_selector("#notice >> text=60 秒内无人接受", timeout=TIMEOUT)
    await wang.wait_for_selector("#transfer-state", state="hidden", timeout=TIMEOUT)
    await li.wait_for_selector("#offers-card", state="hidden", timeout=TIMEOUT)
    await wang.wait_for_selector(f"#mine [data-case='{case_id}']", timeout=TIMEOUT)
    assert await wang.is_visible("#composer")


async def test_a_supervisor_whispers_then_takes_over(server, browser):
    base, services = str(server.make_url("")).rstrip("/"), server.app[SERVICES]
    await colleagues(services)
    resident, wang, case_id = await a_case_taken_by_wang(browser, base)
    zhou = await logged_in(browser, base, "/console/supervisor", "zhou")
    await zhou.wait_for_selector("#live.ok", timeout=TIMEOUT)
    await zhou.click(f"#cases tr >> text=#{case_id}")
    await zhou.wait_for_selector("#stepin:not([hidden]) >> text=接待中：王咨询师", timeout=TIMEOUT)

    await resident.fill("#text", "我不知道还能撑多久")  # the supervisor reads it as it happens
    await resident.click("#send")
    await zhou.wait_for_selector("#msgs >> text=我不知道还能撑多久", timeout=TIMEOUT)

    await zhou.fill("#whisper-text", "问一下她今晚身边有没有人")
    await zhou.click("#whisper")
    await wang.wait_for_selector("#whispers >> text=问一下她今晚身边有没有人", timeout=TIMEOUT)
    await zhou.wait_for_selector("#watch-timeline >> text=督导给咨询师留了悄悄话", timeout=TIMEOUT)
    assert "问一下她今晚身边有没有人" not in await resident.text_content("#chat")  # never sent to the resident

    await zhou.click("#take-over")
    await zhou.wait_for_url(f"**/console#case-{case_id}", timeout=TIMEOUT)
    await zhou.wait_for_selector("#composer:not([hidden])", timeout=TIMEOUT)
    await zhou.wait_for_selector("#timeline >> text=督导接手", timeout=TIMEOUT)
    await wang.wait_for_selector("#notice >> text=已由督导 周督导 接手", timeout=TIMEOUT)
    await wang.wait_for_selector("#chat-empty:not([hidden])", timeout=TIMEOUT)

    await zhou.fill("#composer textarea", "你好，我是周督导，我在。")
    await zhou.click("#send")
    await resident.wait_for_selector("#chat >> text=我是周督导", timeout=TIMEOUT)


async def test_a_closed_browser_returns_a_level_3_case_to_the_queue_and_alerts_the_supervisor(
        server, browser):
    base, services = str(server.make_url("")).rstrip("/"), server.app[SERVICES]
    await colleagues(services)
    _, wang, case_id = await a_case_taken_by_wang(browser, base)
    await cases.raise_level(services, case_id, 3)
    zhou = await logged_in(browser, base, "/console/supervisor", "zhou")
    li = await logged_in(browser, base, "/console", "li")
    for page in (zhou, li):
        await page.wait_for_selector("#live.ok", timeout=TIMEOUT)

    await wang.context.close()  # the counsellor's browser is gone mid-case
    last_beat = (await Presence(services.redis).all())[(await cases.get_case(services, case_id)).counsellor_id].at_ms
    assert await requeue_vanished(services, now=last_beat + CONSOLE_GONE_AFTER_MS // 2) == []  # the grace period
    assert (await cases.get_case(services, case_id)).status == "active"
    assert await requeue_vanished(services, now=last_beat + CONSOLE_GONE_AFTER_MS) == [case_id]

    await zhou.wait_for_selector("#alert >> text=王咨询师 的值班台已断开", timeout=TIMEOUT)
    await li.wait_for_selector(f"#waiting [data-case='{case_id}']", timeout=TIMEOUT)
    assert "值班台已断开" not in (await li.text_content("#notice") or "")  # the alert is the supervisors'
    await zhou.click(f"#cases tr >> text=#{case_id}")
    await zhou.wait_for_selector("#watch-timeline >> text=放回队列 · 咨询师的值班台已断开", timeout=TIMEOUT)
    # first in line: level 3 goes ahead of anything lower
    assert await li.get_attribute("#waiting [data-case]", "data-case") == str(case_id)
