"""Issue 14 item 1 in a real browser: the whole conversation, always. A reload keeps the case open
with every message and note in place, a history longer than a page is all reached by scrolling up,
and the resident's earlier case opens inline with its summary, outcome and score.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.appkeys import SERVICES
from bot.auth.users import add_user
from bot.models import Message
from handoff.history import PAGE
from handoff.models import Case
from handoff.roster import set_weekly
from tests.handoff.conftest import PASSWORD
from tests.handoff.test_browser import (CHROMIUM, TIMEOUT, a_case_taken_by_wang, browser, logged_in,  # noqa: F401
                                        server)

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")

EARLIER = PAGE + 40  # older messages than the first page holds


async def say(resident, text: str) -> None:
    await resident.fill("#text", text)
    await resident.click("#send")


async def older_messages(services, case_id: int, count: int) -> None:
    """`count` messages the resident wrote in the case's conversation an hour before it, oldest first."""
    async with services.db.begin() as session:
        case = await session.get(Case, case_id)
        first = await session.scalar(select(Message.created_at).where(Message.conversation_id == case.conversation_id)
                                     .order_by(Message.created_at).limit(1))
        session.add_all([Message(conversation_id=case.conversation_id, resident_id=case.resident_id, direction="in",
                                 sender="resident", kind="text", content=f"早先的第{n}条",
                                 created_at=first - timedelta(hours=1) + timedelta(seconds=n)) for n in range(count)])


async def history_lines(page) -> list[str]:
    """What #msgs shows, item by item: who, then what (a note is marked as one)."""
    return await page.eval_on_selector_all("#msgs > .msg, #msgs > .step", """nodes => nodes.map(n =>
        n.classList.contains('step') ? 'step' : (n.classList.contains('note') ? 'note ' : '') +
        n.querySelector('.text').textContent)""")


async def test_a_reload_keeps_the_whole_history_with_notes_in_place(server, browser):
    base, services = str(server.make_url("")).rstrip("/"), server.app[SERVICES]
    resident, wang, case_id = await a_case_taken_by_wang(browser, base)
    await say(resident, "我这几天总是做噩梦")
    await wang.wait_for_selector("#msgs >> text=我这几天总是做噩梦", timeout=TIMEOUT)
    await wang.fill("#composer textarea", "梦里发生了什么，愿意说说吗？")
    await wang.click("#send")
    await wang.wait_for_selector("#msgs >> text=梦里发生了什么，愿意说说吗？", timeout=TIMEOUT)
    await wang.fill("#note-text", "噩梦频繁，评估睡眠")
    await wang.click("#add-note")
    await wang.wait_for_selector("#msgs .note >> text=噩梦频繁，评估睡眠", timeout=TIMEOUT)
    await say(resident, "梦见自己一个人在很黑的地方")
    await wang.wait_for_selector("#msgs >> text=梦见自己一个人在很黑的地方", timeout=TIMEOUT)
    await older_messages(services, case_id, EARLIER)

    await wang.reload()
    await wang.wait_for_selector("#msgs >> text=梦见自己一个人在很黑的地方", timeout=TIMEOUT)  # the case reopens
    lines = [line for line in await history_lines(wang) if line != "step"]
    assert lines[-4:] == ["我这几天总是做噩梦", "梦里发生了什么，愿意说说吗？", "note 噩梦频繁，评估睡眠",
                          "梦见自己一个人在很黑的地方"]
    assert (await wang.text_content("#msgs .note .who")).startswith("备注 · 王咨询师 · ")
    assert "早先的第0条" not in await wang.text_content("#msgs")  # beyond the first page, not lost:

    await wang.wait_for_selector("#msgs button.earlier", timeout=TIMEOUT)
    await wang.eval_on_selector("#msgs", "box => { box.scrollTop = 0; }")  # scrolling up brings the rest
    await wang.wait_for_selector("#msgs >> text=早先的第0条", timeout=TIMEOUT)
    assert await wang.is_hidden("#msgs button.earlier")
    lines = [line for line in await history_lines(wang) if line.startswith("早先的")]
    assert lines == [f"早先的第{n}条" for n in range(EARLIER)]


async def test_an_earlier_case_opens_inline_with_its_summary_outcome_and_score(server, browser):
    base, services = str(server.make_url("")).rstrip("/"), server.app[SERVICES]
    li = await add_user(services.db, "li", PASSWORD, ["counsellor"], display_name="李老师")
    async with services.db.begin() as session:
        await set_weekly(session, li.id, "counsellor", list(range(7)), "00:00", "24:00")
    resident, wang, case_id = await a_case_taken_by_wang(browser, base)
    await say(resident, "工作上的事让我喘不过气")
    await wang.wait_for_selector("#msgs >> text=工作上的事让我喘不过气", timeout=TIMEOUT)
    await wang.fill("#composer textarea", "我们一起想想可以先做哪一步")
    await wang.click("#send")
    await wang.wait_for_selector("#msgs >> text=我们一起想想可以先做哪一步", timeout=TIMEOUT)
    await wang.fill("#note-text", "工作压力，建议先请假休息")
    await wang.click("#add-note")
    await wang.wait_for_selector("#msgs .note >> text=工作压力，建议先请假休息", timeout=TIMEOUT)
    await wang.select_option("#outcome", "resolved")
    await wang.fill("#summary", "压力源明确，情绪已平稳")
    await wang.click("#close")
    await wang.wait_for_selector("#chat-status >> text=已结案", timeout=TIMEOUT)
    for text, answer in (("我最近睡不好", "我现在是安全的"), ("1", "1-5"), ("5", "谢谢您的评价")):
        await say(resident, text)
        await resident.wait_for_selector(f"#chat >> text={answer}", timeout=TIMEOUT)
    await say(resident, "人工")

    reader = await logged_in(browser, base, "/console", "li")
    await reader.wait_for_selector("#waiting [data-case]", timeout=TIMEOUT)
    await reader.click("#take-next")
    await reader.wait_for_selector("#composer:not([hidden])", timeout=TIMEOUT)
    earlier = reader.locator(f"#record [data-past-case='{case_id}']")
    await earlier.locator("text=来访者评分 5/5（很有帮助）").wait_for(timeout=TIMEOUT)
    assert "已解决" in await earlier.text_content() and "压力源明确，情绪已平稳" in await earlier.text_content()
    await earlier.locator("button.open-past").click()
    inline = earlier.locator(".past-history")
    await inline.locator("text=我们一起想想可以先做哪一步").wait_for(timeout=TIMEOUT)
    said = await inline.locator(".msg").all_text_contents()
    order = [next(i for i, s in enumerate(said) if words in s) for words in
             ("工作上的事让我喘不过气", "我们一起想想可以先做哪一步", "工作压力，建议先请假休息", "谢谢您的评价")]
    assert order == sorted(order)  # the earlier case's chat and notes in their order, in place
    assert "王咨询师" in said[order[1]] and "王咨询师" in said[order[2]]  # each with who wrote it
    assert await reader.is_visible("#composer")  # reading it does not leave the case at hand
