"""One local time: a message written at 00:10 Beijing time (16:10 UTC the day before) shows the same
local date and time in review, its export, the console and the resident's record page."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

from sqlalchemy import select, update

from bot.appkeys import CONFIG
from bot.models import Conversation, Message
from flows.models import Assessment
from flows.record import make_token

WRITTEN = datetime(2026, 6, 1, 16, 10, tzinfo=timezone.utc)  # 2026-06-02 00:10 in Asia/Shanghai


async def written_after_midnight(services, world) -> int:
    """The closed conversation's first message, and a PHQ-9 result, at 00:10 local time."""
    async with services.db.begin() as session:
        first = await session.scalar(select(Message.id).where(Message.conversation_id == world.closed_conv)
                                     .order_by(Message.id))
        await session.execute(update(Message).where(Message.id == first).values(created_at=WRITTEN))
        await session.execute(update(Conversation).where(Conversation.id == world.closed_conv)
                              .values(started_at=WRITTEN))
        session.add(Assessment(resident_id=world.alice, scale="PHQ-9", answers=[1] * 9, total=9, band="mild",
                               created_at=WRITTEN))
    return first


async def test_review_conversation_page_shows_local_date_and_time(staff, world, services):
    await written_after_midnight(services, world)
    page = await (await staff["rev"].get(f"/review/conversations/{world.closed_conv}")).text()
    assert "06-02 00:10:00" in page and "2026-06-02 00:10" in page
    assert "06-01 16:10" not in page


async def test_review_exports_carry_the_local_time(staff, world, services):
    first = await written_after_midnight(services, world)
    data = json.loads(await (await staff["sup"].get(
        f"/review/conversations/{world.closed_conv}/export.json")).text())
    [message] = [m for m in data["messages"] if m["message_id"] == first]
    assert message["created_at"] == "2026-06-02T00:10:00+08:00"
    text = (await (await staff["rev"].get(f"/review/conversations/{world.closed_conv}/export.csv")).text())
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0]["created_at"] == "2026-06-02T00:10:00+08:00"


async def test_console_case_json_and_page_use_the_local_zone(staff, world, services):
    first = await written_after_midnight(services, world)
    detail = await (await staff["sup"].get(f"/console/api/cases/{world.closed_case}")).json()
    [message] = [m for m in detail["history"]["items"] if m["type"] == "message" and m["id"] == first]
    assert message["at"] == "2026-06-02T00:10:00+08:00"
    page = await (await staff["coun"].get("/console")).text()
    assert 'const TIME_ZONE = "Asia/Shanghai";' in page and "timeZone: TIME_ZONE" in page


async def test_resident_record_page_shows_the_local_date(client, world, services):
    await written_after_midnight(services, world)
    token = make_token(client.server.app[CONFIG].secret_key, world.alice)
    page = await (await client.get(f"/record/{token}")).text()
    assert "<td>2026-06-02</td>" in page and "2026-06-01" not in page
