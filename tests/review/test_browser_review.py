"""In a real browser: a message written at 00:10 Beijing time shows at 00:10 in the counsellor's
console and in review alike; review's bubbles are compact; the quality review puts the whole case,
the counsellor's words included, beside its checklist."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from bot.appkeys import SERVICES
from bot.auth.users import add_user
from bot.models import Message
from handoff.models import Case
from tests.handoff.conftest import PASSWORD
from tests.handoff.test_browser import TIMEOUT, a_case_taken_by_wang, browser, logged_in, pytestmark, server  # noqa: F401

WRITTEN = datetime(2026, 6, 1, 16, 10, tzinfo=timezone.utc)  # 2026-06-02 00:10 in Beijing
WORDS = "我最近压力很大，想找人聊聊"
REPLY = "我在，慢慢说。"


async def test_review_and_console_show_one_message_at_the_same_local_time(server, browser):  # noqa: F811
    base = str(server.make_url("")).rstrip("/")
    services = server.app[SERVICES]
    await add_user(services.db, "chen", PASSWORD, ["reviewer"], display_name="陈审核")

    resident, wang, _ = await a_case_taken_by_wang(browser, base)
    await resident.fill("#text", WORDS)
    await resident.click("#send")
    await wang.wait_for_selector(f"#msgs >> text={WORDS}", timeout=TIMEOUT)
    await wang.fill("#composer textarea", REPLY)
    await wang.click("#send")
    await resident.wait_for_selector(f"#chat >> text={REPLY}", timeout=TIMEOUT)

    # The resident's words were written at 00:10 Beijing time; an empty event sits before them.
    async with services.db.begin() as session:
        message = await session.scalar(select(Message).where(Message.content == WORDS))
        await session.execute(update(Message).where(Message.id == message.id).values(created_at=WRITTEN))
        session.add(Message(conversation_id=message.conversation_id, resident_id=message.resident_id, direction="in",
                            sender="resident", kind="event:subscribe", content="",
                            created_at=WRITTEN - timedelta(seconds=30)))
    await wang.reload()
    await wang.click("#mine [data-case]")
    console_line = wang.locator("#msgs > *", has_text=WORDS).first
    await console_line.wait_for(timeout=TIMEOUT)
    console_text = await console_line.text_content()
    assert "00:10:00" in console_text and "16:10" not in console_text

    await wang.select_option("#outcome", "resolved")
    await wang.select_option("#rating", "1")
    await wang.fill("#summary", "已缓解")
    await wang.click("#close")
    await wang.wait_for_selector("#chat-status >> text=已结案", timeout=TIMEOUT)

    chen = await logged_in(browser, base, f"/review/conversations/{message.conversation_id}", "chen")
    bubble = chen.locator(".msg", has_text=WORDS)
    assert await bubble.locator("time").text_content() == "06-02 00:10:00"  # the console's 00:10:00, that day
    bare = chen.locator(".msg.bare")
    assert "关注公众号" in await bare.text_content()
    assert (await bare.bounding_box())["height"] < 32  # one line, not a box of empty lines

    async with services.db() as session:
        case_id = await session.scalar(select(Case.id).where(Case.conversation_id == message.conversation_id))
    await chen.goto(f"{base}/review/cases/{case_id}/quality")
    messages, checklist = chen.locator("#case-messages"), chen.locator("#checklist")
    await messages.locator(".msg.human", has_text=REPLY).wait_for(timeout=TIMEOUT)
    assert "00:10:00" in await messages.locator(".msg", has_text=WORDS).text_content()
    left, right = await messages.bounding_box(), await checklist.bounding_box()
    assert right["x"] >= left["x"] + left["width"] and right["y"] < left["y"] + left["height"]  # side by side
