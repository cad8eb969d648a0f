"""'漏判' from the review conversation page: a resident message the bot read too low, marked at the
level the staff member gives, by whoever may read it there, and written to the audit trail."""
from __future__ import annotations

from sqlalchemy import select

from bot.models import Message
from handoff.detections import MISSED, CrisisDetection
from tests.review.conftest import audit_rows


async def message_of(services, conversation_id: int, sender: str) -> int:
    async with services.db() as session:
        return await session.scalar(select(Message.id).where(Message.conversation_id == conversation_id,
                                                             Message.sender == sender).order_by(Message.id))


async def misses(services) -> list[CrisisDetection]:
    async with services.db() as session:
        return list(await session.scalars(select(CrisisDetection).where(CrisisDetection.source == MISSED)))


async def test_a_reviewer_marks_a_resident_message_the_bot_missed(services, staff, world):
    message_id = await message_of(services, world.closed_conv, "resident")
    page = await (await staff["rev"].get(f"/review/conversations/{world.closed_conv}")).text()
    assert f'action="/review/messages/{message_id}/missed"' in page

    resp = await staff["rev"].post(f"/review/messages/{message_id}/missed", {"level": "3"})
    assert resp.status == 303
    assert resp.headers["Location"] == f"/review/conversations/{world.closed_conv}#m{message_id}"
    [row] = await misses(services)
    assert (row.message_id, row.level, row.marked_by) == (message_id, 3, staff["rev"].id)
    entry = (await audit_rows(services))[-1]
    assert (entry.action, entry.target_type, entry.target_id) == ("label", "message", str(message_id))
    assert entry.summary == f"missed level=3 detection={row.id}"  # no message content
    page = await (await staff["rev"].get(f"/review/conversations/{world.closed_conv}")).text()
    assert "工作人员标注：机器人漏判" in page


async def test_marking_again_changes_the_level(services, staff, world):
    message_id = await message_of(services, world.closed_conv, "resident")
    await staff["sup"].post(f"/review/messages/{message_id}/missed", {"level": "2"})
    await staff["coun"].post(f"/review/messages/{message_id}/missed", {"level": "4"})  # coun held the case
    [row] = await misses(services)
    assert (row.level, row.marked_by) == (4, staff["coun"].id)


async def test_only_messages_one_may_read_in_review_can_be_marked(services, staff, world):
    closed = await message_of(services, world.closed_conv, "resident")
    live = await message_of(services, world.active_conv, "resident")
    assert (await staff["rev"].post(f"/review/messages/{live}/missed", {"level": "3"})).status == 403  # an open case
    assert (await staff["coun2"].post(f"/review/messages/{closed}/missed", {"level": "3"})).status == 403  # not theirs
    assert (await staff["adm"].post(f"/review/messages/{closed}/missed", {"level": "3"})).status == 403
    assert (await staff["anon"].post(f"/review/messages/{closed}/missed", {"level": "3"})).status == 302  # to login
    assert (await staff["rev"].post("/review/messages/999999/missed", {"level": "3"})).status == 403
    no_token = await staff["rev"].http.post(f"/review/messages/{closed}/missed", data={"level": "3"},
                                            allow_redirects=False)
    assert no_token.status == 403
    assert await misses(services) == []


async def test_only_a_resident_message_at_level_2_to_4_is_a_miss(services, staff, world):
    closed = await message_of(services, world.closed_conv, "resident")
    bot = await message_of(services, world.closed_conv, "bot")
    for level in ("1", "5", "", "three"):
        assert (await staff["rev"].post(f"/review/messages/{closed}/missed", {"level": level})).status == 400
    assert (await staff["rev"].post(f"/review/messages/{bot}/missed", {"level": "3"})).status == 400
    page = await (await staff["rev"].get(f"/review/conversations/{world.closed_conv}")).text()
    assert f"/review/messages/{bot}/missed" not in page  # the form is on the resident's messages only
    assert await misses(services) == []
