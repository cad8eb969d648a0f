"""Learning from the hotline: a counsellor marks a resident message the bot read too low ("漏判"), and
`xinzhan crisis-export-labels` writes the misses and false alarms, redacted and audited, as crisis
corpus lines a city can retrain on."""
from __future__ import annotations

from sqlalchemy import select

from bot.models import Message, Resident
from handoff.detections import MISSED, CrisisDetection, mark_false_alarm
from handoff.review.labels import export
from handoff.review.models import AuditEntry

QUIET = "我把猫托付给邻居了，手机号码是13812345678，以后就拜托她了"


async def case_with_message(platform, counsellor, openid: str, text: str) -> tuple[int, dict]:
    await platform.text(openid, text)
    await platform.text(openid, "人工")
    status, taken = await counsellor.post("/console/api/take")
    assert status == 200
    case_id = taken["case"]["id"]
    _, detail = await counsellor.get(f"/console/api/cases/{case_id}")
    [message] = [m for m in detail["history"]["items"] if m.get("content") == text]
    return case_id, message


async def test_a_counsellor_marks_a_missed_message_at_the_level_it_should_have_read(platform, services, staff_client):
    counsellor = await staff_client("c-missed")
    case_id, message = await case_with_message(platform, counsellor, "o-missed", QUIET)
    status, marked = await counsellor.post(f"/console/api/cases/{case_id}/messages/{message['id']}/missed", {"level": 4})
    assert status == 200
    status, again = await counsellor.post(f"/console/api/cases/{case_id}/messages/{message['id']}/missed", {"level": 3})
    assert again["detection_id"] == marked["detection_id"]  # marked once, its level changed
    async with services.db() as session:
        row = await session.get(CrisisDetection, marked["detection_id"])
    assert (row.source, row.level, row.message_id, row.marked_by) == (MISSED, 3, message["id"], counsellor.id)
    async with services.db() as session:
        trail = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "label")))
    assert [(t.target_type, t.target_id, t.staff_id) for t in trail] == [("message", str(message["id"]), counsellor.id)] * 2


async def test_only_resident_messages_of_ones_own_case_can_be_marked(platform, services, staff_client):
    counsellor, other = await staff_client("c-own"), await staff_client("c-other")
    case_id, message = await case_with_message(platform, counsellor, "o-own", QUIET)
    path = f"/console/api/cases/{case_id}/messages/{message['id']}/missed"
    assert (await other.post(path, {"level": 3}))[0] == 409  # not their case
    assert (await counsellor.post(path, {"level": 1}))[0] == 400  # a miss is read at 2-4
    _, detail = await counsellor.get(f"/console/api/cases/{case_id}")
    bot_reply = next(m for m in detail["history"]["items"] if m.get("sender") == "bot")
    assert (await counsellor.post(f"/console/api/cases/{case_id}/messages/{bot_reply['id']}/missed",
                                  {"level": 3}))[0] == 400
    await platform.text("o-elsewhere", "你好")
    async with services.db() as session:
        elsewhere = await session.scalar(select(Message.id).join(Resident, Resident.id == Message.resident_id)
                                         .where(Resident.openid == "o-elsewhere"))
    assert (await counsellor.post(f"/console/api/cases/{case_id}/messages/{elsewhere}/missed", {"level": 3}))[0] == 404


async def test_export_writes_misses_and_false_alarms_redacted_and_audited(platform, services, staff_client,
                                                                          clean_database):
    counsellor = await staff_client("c-export")
    case_id, message = await case_with_message(platform, counsellor, "o-export", QUIET)
    await counsellor.post(f"/console/api/cases/{case_id}/messages/{message['id']}/missed", {"level": 4})
    await platform.text("o-alarm", "我已经写好遗书，今晚就从楼顶跳下去")
    async with services.db() as session:
        alarm = await session.scalar(select(CrisisDetection.id).join(Resident, Resident.id == CrisisDetection.resident_id)
                                     .where(Resident.openid == "o-alarm", CrisisDetection.source != MISSED))
    await mark_false_alarm(services, staff_id=counsellor.id, detection_id=alarm)

    lines = await export(clean_database, "site-test", None)
    by_kind = {line["kind"]: line for line in lines}
    assert set(by_kind) == {"missed", "false_alarm"}
    assert by_kind["missed"]["level"] == 4 and by_kind["false_alarm"]["level"] == 0
    assert "13812345678" not in by_kind["missed"]["text"] and "邻居" in by_kind["missed"]["text"]
    assert all(line["batch"] == "site-test" and line["id"].startswith("site-test-") for line in lines)
    async with services.db() as session:
        trail = await session.scalar(select(AuditEntry).where(AuditEntry.target_type == "crisis_labels"))
    assert trail is not None and trail.action == "export" and "rows=2" in trail.summary
