"""Exports: valid CSV (one row per message) and JSON, redacted by default; a print view."""
from __future__ import annotations

import csv
import io
import json

from sqlalchemy import func, select

from bot.db import utcnow
from bot.models import Message
from handoff.models import Note


async def message_count(services, conv: int) -> int:
    async with services.db() as session:
        return await session.scalar(select(func.count()).select_from(Message).where(Message.conversation_id == conv))


async def test_conversation_csv_has_one_row_per_message_and_is_redacted(staff, world, services):
    resp = await staff["rev"].get(f"/review/conversations/{world.closed_conv}/export.csv")
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO((await resp.text()).lstrip("\ufeff"))))
    assert len(rows) == await message_count(services, world.closed_conv)
    first = rows[0]
    assert first["content"] == "我最近一直失眠，睡不着，电话[手机号]" and first["resident"].startswith("r-")
    assert "o-alice" not in await resp.text()


async def test_conversation_json_unredacted_on_request(staff, world, services):
    resp = await staff["sup"].get(f"/review/conversations/{world.closed_conv}/export.json?redact=0")
    data = json.loads(await resp.text())
    assert data["redacted"] is False and data["cases"][0]["outcome"] == "referred"
    assert len(data["messages"]) == await message_count(services, world.closed_conv)
    assert data["messages"][0]["content"].endswith("13812345678") and data["messages"][0]["resident"] == "o-alice"


async def test_conversation_json_carries_each_cases_summary_and_notes_redacted(staff, world, services):
    async with services.db.begin() as session:
        session.add(Note(case_id=world.closed_case, author_id=staff["coun"].id, body="王小明说可以打13912345678找他",
                         created_at=utcnow()))
    resp = await staff["rev"].get(f"/review/conversations/{world.closed_conv}/export.json")
    [case] = json.loads(await resp.text())["cases"]
    assert case["summary"] == "已转介精神卫生中心" and case["counsellor"] == "coun老师"
    assert [(n["author"], n["body"]) for n in case["notes"]] == [
        ("coun老师", "来访者同意去医院"), ("coun老师", "[姓名]说可以打[手机号]找他")]
    printed = await (await staff["rev"].get(f"/review/conversations/{world.closed_conv}/print")).text()
    assert "结案小结：已转介精神卫生中心" in printed and "[手机号]找他" in printed and "13912345678" not in printed


async def test_search_export_as_csv_and_json(staff, world):
    csv_resp = await staff["sup"].get("/review/export.csv?q=失眠")
    rows = list(csv.DictReader(io.StringIO((await csv_resp.text()).lstrip("\ufeff"))))
    assert len(rows) == 1 and "[手机号]" in rows[0]["content"]
    data = json.loads(await (await staff["sup"].get("/review/export.json")).text())
    assert len(data["messages"]) >= 3 and data["redacted"] is True


async def test_names_are_redacted_where_known(staff, world, platform):
    await platform.text("o-alice", "我是王小明，住在阳光小区5号楼2单元301室")
    resp = await staff["sup"].get("/review/export.json?openid=o-alice&q=阳光")
    content = json.loads(await resp.text())["messages"][0]["content"]
    assert content == "我是[姓名]，住在[地址]"


async def test_spreadsheet_formulas_are_neutralised(staff, world, platform):
    await platform.text("o-carol", "=HYPERLINK(\"http://x\")")
    resp = await staff["sup"].get("/review/export.csv?openid=o-carol&q=HYPERLINK")
    rows = list(csv.DictReader(io.StringIO((await resp.text()).lstrip("\ufeff"))))
    assert rows[0]["content"].startswith("'=")


async def test_print_view_is_redacted_and_printable(staff, world):
    resp = await staff["rev"].get(f"/review/conversations/{world.closed_conv}/print")
    body = await resp.text()
    assert resp.status == 200 and "window.print()" in body and "[手机号]" in body and "13812345678" not in body


async def test_conversation_view_shows_turns_detection_timeline_notes_and_outcome(staff, world):
    body = await (await staff["sup"].get(f"/review/conversations/{world.closed_conv}")).text()
    assert '<mark class="evidence">失眠</mark>' in body
    assert "危机识别" in body
    for part in ("进入队列", "接入", "结案", "来访者同意去医院", "已转介", "已转介精神卫生中心", "coun老师"):
        assert part in body, part
