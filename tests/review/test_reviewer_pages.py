"""Review a reviewer can use (issue 15 item 6): the quality review shows the whole case beside the
checklist, counsellor messages included; bubbles stay compact; filters read in Chinese."""
from __future__ import annotations

import re
from datetime import timedelta

from bot.db import utcnow
from bot.models import Message
from handoff.models import Case
from tests.review.conftest import audit_rows, conversation_of, resident_of


async def two_cases_in_one_conversation(platform, services, staff) -> tuple[int, int]:
    """A first closed case (the resident, then the counsellor), and a second one after it."""
    await platform.text("o-dora", "这周总是想哭")
    dora = await resident_of(services, "o-dora")
    conversation = await conversation_of(services, dora.id)
    start = utcnow() + timedelta(seconds=1)
    async with services.db.begin() as session:
        first = Case(resident_id=dora.id, conversation_id=conversation, reason="request", level=2, status="closed",
                     queued_at=start, claimed_at=start, closed_at=start + timedelta(minutes=10),
                     counsellor_id=staff["coun"].id, outcome="resolved")
        second = Case(resident_id=dora.id, conversation_id=conversation, reason="request", level=1, status="closed",
                      queued_at=start + timedelta(minutes=20), closed_at=start + timedelta(minutes=30),
                      counsellor_id=staff["coun"].id, outcome="resolved")
        session.add_all([first, second])
        await session.flush()
        for minute, sender, direction, text, author in (
                (2, "counsellor", "out", "我在这里，愿意说说发生了什么吗？", staff["coun"].id),
                (3, "resident", "in", "工作压力太大了", None),
                (4, "resident", "in", "", None),
                (22, "resident", "in", "第二次来找你们", None)):
            session.add(Message(conversation_id=conversation, resident_id=dora.id, direction=direction, sender=sender,
                                kind="event:subscribe" if not text else "text", content=text, author_id=author,
                                created_at=start + timedelta(minutes=minute)))
    return first.id, second.id


async def test_the_quality_review_shows_the_whole_case_beside_the_checklist(platform, services, staff):
    first, second = await two_cases_in_one_conversation(platform, services, staff)
    page = await (await staff["rev"].get(f"/review/cases/{first}/quality")).text()
    messages = page[page.index('id="case-messages"'):page.index('id="checklist"')]
    assert "我在这里，愿意说说发生了什么吗？" in messages and "工作压力太大了" in messages
    assert "这周总是想哭" in messages  # the bot turns that led up to the case are the case's too
    assert "第二次来找你们" not in page  # the next case's
    assert "是否直接询问了自杀/自伤风险" in page[page.index('id="checklist"'):]
    later = await (await staff["rev"].get(f"/review/cases/{second}/quality")).text()
    assert "第二次来找你们" in later and "工作压力太大了" not in later
    views = [e for e in await audit_rows(services) if e.action == "view" and e.target_type == "case"]
    assert [e.target_id for e in views] == [str(first), str(second)]


async def test_an_event_without_text_is_a_one_line_bubble(platform, services, staff):
    first, _ = await two_cases_in_one_conversation(platform, services, staff)
    page = await (await staff["rev"].get(f"/review/cases/{first}/quality")).text()
    # the whole bubble: its one line, and nothing (no text box, no blank lines) after it
    assert re.search(r'class="msg in bare">\s*<div class="who">[^<]*<time>[^<]*</time> · 关注公众号</div>\s*</div>',
                     page)


async def test_search_filters_and_senders_read_in_chinese(platform, services, staff, world):
    page = await (await staff["sup"].get("/review?q=失眠")).text()
    assert "L3 主动意念" in page and "已转介" in page
    assert re.search(r"<td>居民</td>", page) and not re.search(r"<td>resident</td>", page)
    audit = await (await staff["sup"].get("/review/audit")).text()
    assert '<option value="conversation" >对话</option>' in audit and '<option value="case" >个案</option>' in audit


async def test_the_print_view_names_senders_and_levels_in_chinese(staff, world):
    page = await (await staff["sup"].get(f"/review/conversations/{world.closed_conv}/print")).text()
    assert "<td>居民</td>" in page and "<td>resident</td>" not in page and "风险 L4 紧急" in page
