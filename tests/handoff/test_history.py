"""Issue 14 item 1, through the console API: the whole conversation, always. A case's messages (the
resident's, the bot's, the counsellors'), its notes and its timeline in one order by time, each with
who wrote it; a case far longer than one page is all there, page by page; the resident's earlier
cases are read from the case at hand, audited. And the step-ins (item 3) in the timeline and the audit trail."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.db import utcnow
from bot.models import Message
from handoff.history import PAGE
from handoff.models import Case, Note
from handoff.review.models import AuditEntry

OLD_LIMIT = 300  # what the console used to load at most


async def taken(platform, counsellor, openid: str) -> int:
    await platform.text(openid, "人工")
    status, answer = await counsellor.post("/console/api/take")
    assert status == 200, answer
    return answer["case"]["id"]


def shown(items: list[dict]) -> list[tuple]:
    """Each item as the reader meets it: what it is, who wrote it, what it says."""
    said = {"message": lambda i: (i["sender"], i["author"], i["content"]), "note": lambda i: (i["author"], i["body"]),
            "step": lambda i: (i["actor"], i["kind"])}
    return [(i["type"], *said[i["type"]](i)) for i in items]


async def audited(services, action: str | None = None) -> list[tuple]:
    async with services.db() as session:
        rows = await session.scalars(select(AuditEntry).where(AuditEntry.target_type == "case").order_by(AuditEntry.id))
        return [(r.staff_name, r.action, r.target_id, r.summary) for r in rows if action in (None, r.action)]


async def test_messages_notes_and_steps_stand_in_one_order_with_their_authors_after_a_reassignment(
        platform, services, staff_client):
    first, second = await staff_client("c1"), await staff_client("c2")
    supervisor = await staff_client("sup", ("supervisor",))
    case_id = await taken(platform, first, "o-order")
    await platform.text("o-order", "我这几天一直睡不着")
    await first.post(f"/console/api/cases/{case_id}/messages", {"text": "我在，慢慢说。"})
    status, note = await first.post(f"/console/api/cases/{case_id}/notes", {"body": "睡眠差，先稳定情绪"})
    assert status == 200 and (note["type"], note["author"], note["body"]) == ("note", "c1", "睡眠差，先稳定情绪")
    await platform.text("o-order", "谢谢你")
    await supervisor.post(f"/console/api/cases/{case_id}/whisper", {"body": "问问她身边有没有人"})
    await supervisor.post(f"/console/api/cases/{case_id}/reassign", {"to": second.id})

    status, detail = await second.get(f"/console/api/cases/{case_id}")  # the new holder reads it all
    assert status == 200 and detail["history"]["earlier"] is None
    items = detail["history"]["items"]
    assert [i["at"] for i in items] == sorted(i["at"] for i in items)
    assert [i for i in shown(items) if i[:2] != ("message", "bot")][-9:] == [
        ("step", "", "queued"), ("step", "c1", "claimed"),
        ("message", "resident", "", "我这几天一直睡不着"),
        ("message", "counsellor", "c1", "我在，慢慢说。"),
        ("note", "c1", "睡眠差，先稳定情绪"),
        ("message", "resident", "", "谢谢你"),
        ("note", "sup", "问问她身边有没有人"), ("step", "sup", "whispered"), ("step", "sup", "reassigned")]
    assert ("message", "resident", "", "人工") in shown(items) and any(i.get("sender") == "bot" for i in items)
    [reassigned] = [i for i in items if i["type"] == "step" and i["kind"] == "reassigned"]
    assert reassigned["text"] == "督导改派 · c1 → c2"


async def long_case(services, resident_id: int, conversation_id: int, case_id: int, messages: int) -> None:
    """`messages` transcript rows after the case's own, five to an instant (ties across page edges),
    and a note at every hundredth instant, written at the same moment as that instant's messages."""
    start = utcnow() + timedelta(minutes=1)
    async with services.db.begin() as session:
        for n in range(messages):
            at = start + timedelta(seconds=n // 5)
            session.add(Message(conversation_id=conversation_id, resident_id=resident_id, direction="in",
                                sender="resident", kind="text", content=f"第{n}条", created_at=at))
            if n % 500 == 0:
                session.add(Note(case_id=case_id, author_id=None, body=f"备注{n}", created_at=at))


async def test_a_case_far_longer_than_a_page_is_all_reachable_in_order(platform, services, staff_client):
    counsellor = await staff_client("c1")
    case_id = await taken(platform, counsellor, "o-long")
    async with services.db() as session:
        case = await session.get(Case, case_id)
    await long_case(services, case.resident_id, case.conversation_id, case_id, messages=OLD_LIMIT * 2 + 50)

    status, detail = await counsellor.get(f"/console/api/cases/{case_id}")
    page, pages = detail["history"], 1
    assert len(page["items"]) == PAGE and page["earlier"]
    items = page["items"]
    while page["earlier"]:
        status, page = await counsellor.get(f"/console/api/cases/{case_id}/history?before={page['earlier']}")
        assert status == 200 and len(page["items"]) <= PAGE
        items, pages = page["items"] + items, pages + 1
    written = [i["content"] for i in items if i["type"] == "message" and i["content"].startswith("第")]
    assert written == [f"第{n}条" for n in range(OLD_LIMIT * 2 + 50)]  # none lost, none twice, in order
    assert [i["body"] for i in items if i["type"] == "note"] == ["备注0", "备注500"]
    before_note = items.index(next(i for i in items if i.get("body") == "备注500"))
    assert items[before_note - 1]["content"] == "第504条"  # a note stands after the messages of its instant
    assert items[0]["content"] == "人工" and pages == -(-len(items) // PAGE)


async def test_a_cursor_the_console_did_not_make_is_refused(platform, services, staff_client):
    counsellor = await staff_client("c1")
    case_id = await taken(platform, counsellor, "o-cursor")
    for bad in ("x", "1.7.2", "-5.0.1", "1.0"):
        status, answer = await counsellor.get(f"/console/api/cases/{case_id}/history?before={bad}")
        assert status == 400 and "before" in answer["error"], bad


async def test_an_earlier_case_opens_from_the_case_at_hand_and_the_reading_is_audited(
        platform, services, staff_client):
    first, second, outsider = await staff_client("c1"), await staff_client("c2"), await staff_client("c3")
    earlier = await taken(platform, first, "o-again")
    await platform.text("o-again", "上次说的事情")
    await first.post(f"/console/api/cases/{earlier}/notes", {"body": "约好回访"})
    await first.post(f"/console/api/cases/{earlier}/close", {"outcome": "resolved", "risk_rating": 1, "summary": "平稳"})
    await platform.text("o-again", "我最近睡不好")  # asked: safe now, or talk again?
    await platform.text("o-again", "1")  # safe now
    await platform.text("o-again", "5")  # the score
    await platform.text("o-again", "人工")
    now = (await second.post("/console/api/take"))[1]["case"]["id"]
    other = await taken(platform, outsider, "o-someone-else")

    _, detail = await second.get(f"/console/api/cases/{now}")
    [card] = [c for c in detail["record"]["cases"] if c["id"] == earlier]
    assert (card["summary"], card["outcome"], card["satisfaction"]) == ("平稳", "resolved", 5)
    status, page = await second.get(f"/console/api/cases/{now}/history?of={earlier}")
    assert status == 200
    assert ("message", "resident", "", "上次说的事情") in shown(page["items"])
    assert ("note", "c1", "约好回访") in shown(page["items"])
    assert ("message", "resident", "", "5") in shown(page["items"])  # the score is the earlier case's
    await second.get(f"/console/api/cases/{now}/history?of={earlier}")  # read twice: audited once
    assert await audited(services) == [("c2", "view", str(earlier), f"console earlier case, from #{now}")]

    assert (await second.get(f"/console/api/cases/{now}/history?of={other}"))[0] == 404  # another resident's
    assert (await second.get(f"/console/api/cases/{now}/history?of={now}"))[0] == 404  # not an earlier one
    assert (await outsider.get(f"/console/api/cases/{now}/history?of={earlier}"))[0] == 403
    await second.post(f"/console/api/cases/{now}/close", {"outcome": "resolved", "risk_rating": 0})
    await platform.text("o-again", "人工")
    waiting = (await outsider.get("/console/api/queue"))[1]["waiting"][0]["id"]
    assert (await outsider.get(f"/console/api/cases/{waiting}"))[0] == 200  # a look at the queue reads the case
    assert (await outsider.get(f"/console/api/cases/{waiting}/history?of={earlier}"))[0] == 403  # not the past
    assert [row[2] for row in await audited(services)] == [str(earlier), str(waiting)]  # the look, audited


async def test_each_step_in_is_in_the_timeline_and_the_audit_trail_without_the_words(
        platform, services, staff_client):
    first, second = await staff_client("c1"), await staff_client("c2")
    supervisor = await staff_client("sup", ("supervisor",))
    case_id = await taken(platform, first, "o-stepin")
    assert (await supervisor.post(f"/console/api/cases/{case_id}/whisper", {"body": "问问她今晚是否安全"}))[0] == 200
    assert (await supervisor.post(f"/console/api/cases/{case_id}/reassign", {"to": second.id}))[0] == 200
    assert (await supervisor.post(f"/console/api/cases/{case_id}/takeover"))[0] == 200
    assert (await supervisor.post(f"/console/api/cases/{case_id}/takeover"))[0] == 409  # refused: not audited

    _, detail = await supervisor.get(f"/console/api/cases/{case_id}")
    steps = [(s["kind"], s["actor"]) for s in detail["timeline"]]
    assert steps[-3:] == [("whispered", "sup"), ("reassigned", "sup"), ("taken_over", "sup")]
    trail = [row for row in await audited(services) if row[1] != "view"]
    note_id = next(i["id"] for i in detail["history"]["items"] if i["type"] == "note")
    assert trail == [("sup", "whisper", str(case_id), f"note={note_id} to={first.id}"),
                     ("sup", "reassign", str(case_id), f"from={first.id} to={second.id}"),
                     ("sup", "take_over", str(case_id), f"from={second.id}")]
    assert not any("今晚" in row[3] for row in await audited(services))


async def test_the_case_view_carries_the_residents_score_once_they_gave_it(platform, services, staff_client):
    counsellor = await staff_client("c1")
    case_id = await taken(platform, counsellor, "o-score")
    assert (await counsellor.get(f"/console/api/cases/{case_id}"))[1]["case"]["satisfaction"] is None
    await counsellor.post(f"/console/api/cases/{case_id}/close", {"outcome": "resolved", "risk_rating": 0})
    for answer in ("我最近睡不好", "1", "2"):  # asked if safe; safe now; then "2 帮助不大"
        await platform.text("o-score", answer)
    status, detail = await counsellor.get(f"/console/api/cases/{case_id}")
    assert status == 200 and detail["case"]["satisfaction"] == 2
    assert ("message", "resident", "", "2") == shown(detail["history"]["items"])[-2]  # then the thanks
