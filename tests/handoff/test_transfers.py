"""Issue 14 items 2-3 and its failures, through the console API: transfers are offered and only move
when accepted; refused or timed-out ones come back to the sender with a notice; supervisors whisper,
take over and reassign; a vanished console's high-risk case alerts the supervisors."""
from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from handoff import events
from handoff.models import Case, CaseEvent, Note
from handoff.offers import OFFER_SECONDS
from handoff.presence import Presence
from handoff.queue import CaseQueue, now_ms
from handoff.requests import request_handoff
from handoff.sweep import CONSOLE_GONE_AFTER_MS, requeue_vanished
from handoff.transfers import expire


async def next_event(ws, kind: str, timeout: float = 3.0) -> dict:
    while True:
        event = json.loads((await asyncio.wait_for(ws.receive(), timeout)).data)
        if event["type"] == kind:
            return event


async def types_until(ws, kind: str, timeout: float = 3.0) -> list[str]:
    """Every event type heard before the first `kind` (which is included last)."""
    seen = []
    while not seen or seen[-1] != kind:
        seen.append(json.loads((await asyncio.wait_for(ws.receive(), timeout)).data)["type"])
    return seen


async def taken_case(services, make_resident, holder, openid: str = "o-t", level: int = 1) -> int:
    """A resident's case at `level`, taken by `holder` through the console."""
    ref = await make_resident(openid)
    case_id = (await request_handoff(services, ref, reason="request", level=level)).case_id
    status, taken = await holder.post("/console/api/take", {"case_id": case_id})
    assert status == 200, taken
    return case_id


async def timeline(services, case_id: int) -> list[tuple[str, str]]:
    async with services.db() as session:
        return [(e.kind, e.detail) for e in await session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))]


async def holder_of(services, case_id: int) -> int | None:
    async with services.db() as session:
        case = await session.get(Case, case_id)
    redis_holder = (await CaseQueue(services.redis).claims()).get(case_id)
    assert redis_holder is not None and redis_holder.counsellor_id == case.counsellor_id
    return case.counsellor_id


async def test_a_transfer_moves_the_case_only_when_the_receiver_accepts(client, services, make_resident,
                                                                        staff_client):
    sender, receiver = await staff_client("c1"), await staff_client("c2")
    case_id = await taken_case(services, make_resident, sender)
    status, offered = await sender.post(f"/console/api/cases/{case_id}/transfer", {"to": receiver.id})
    assert status == 200 and offered["transfer"]["to"] == "c2"

    assert await holder_of(services, case_id) == sender.id  # still the sender's: they keep writing
    status, queue = await sender.get("/console/api/queue")
    assert queue["mine"][0]["transfer"]["to"] == "c2"
    status, queue = await receiver.get("/console/api/queue")
    assert [c["id"] for c in queue["offers"]] == [case_id] and queue["offers"][0]["transfer"]["from"] == "c1"

    assert (await sender.post(f"/console/api/cases/{case_id}/transfer/accept"))[0] == 409  # not the receiver's
    status, moved = await receiver.post(f"/console/api/cases/{case_id}/transfer/accept")
    assert status == 200 and await holder_of(services, case_id) == receiver.id
    assert (await receiver.post(f"/console/api/cases/{case_id}/transfer/accept"))[0] == 409  # once
    assert [k for k, _ in await timeline(services, case_id)][-2:] == ["transfer_offered", "transferred"]
    status, queue = await sender.get("/console/api/queue")
    assert queue["mine"] == []


async def test_only_someone_on_duty_and_under_their_cap_can_be_offered_a_case(client, services, make_resident,
                                                                             staff_client):
    sender = await staff_client("c1")
    busy = await staff_client("c2", max_chats=1)
    off = await staff_client("c3", on_duty=False)
    await taken_case(services, make_resident, busy, "o-busy")
    case_id = await taken_case(services, make_resident, sender)
    for to in (busy.id, off.id):
        status, answer = await sender.post(f"/console/api/cases/{case_id}/transfer", {"to": to})
        assert status == 409 and "值班且未满接待上限" in answer["error"], answer
    assert (await sender.post(f"/console/api/cases/{case_id}/transfer", {"to": sender.id}))[0] == 409
    status, answer = await sender.post(f"/console/api/cases/{case_id}/transfer", {"to": "supervisor"})
    assert status == 409 and "督导" in answer["error"]  # nobody in the pool
    status, staff = await sender.get("/console/api/staff")
    assert {s["name"]: s["available"] for s in staff["staff"]} == {"c1": True, "c2": False, "c3": False}


async def test_a_refused_transfer_comes_back_to_the_sender_with_a_notice(client, services, make_resident,
                                                                         staff_client):
    sender, receiver = await staff_client("c1"), await staff_client("c2")
    case_id = await taken_case(services, make_resident, sender)
    ws = await sender.ws()
    await next_event(ws, "hello")
    await sender.post(f"/console/api/cases/{case_id}/transfer", {"to": receiver.id})
    status, _ = await receiver.post(f"/console/api/cases/{case_id}/transfer/refuse")
    assert status == 200
    notice = await next_event(ws, "transfer_returned")
    assert notice["case_id"] == case_id and notice["from_id"] == sender.id and notice["why"] == "transfer_refused"
    assert notice["by"] == "c2"
    assert await holder_of(services, case_id) == sender.id
    assert (await receiver.post(f"/console/api/cases/{case_id}/transfer/accept"))[0] == 409
    assert (await timeline(services, case_id))[-1][0] == "transfer_refused"
    await ws.close()


async def test_a_transfer_nobody_accepts_in_60_seconds_comes_back_to_the_sender(client, services, make_resident,
                                                                                 staff_client):
    sender, receiver = await staff_client("c1"), await staff_client("c2")
    case_id = await taken_case(services, make_resident, sender)
    ws = await sender.ws()
    await next_event(ws, "hello")
    status, offered = await sender.post(f"/console/api/cases/{case_id}/transfer", {"to": receiver.id})
    expires = offered["transfer"]["expires_ms"]
    assert expires - now_ms() <= OFFER_SECONDS * 1000
    assert await expire(services, expires - 1000) == []
    assert await expire(services, expires + 1) == [case_id]
    assert (await next_event(ws, "transfer_returned"))["why"] == "transfer_expired"
    assert await holder_of(services, case_id) == sender.id
    status, queue = await sender.get("/console/api/queue")
    assert queue["mine"][0]["transfer"] is None and await CaseQueue(services.redis).waiting() == []
    assert (await receiver.post(f"/console/api/cases/{case_id}/transfer/accept"))[0] == 409
    await ws.close()


async def test_the_supervisor_pool_is_offered_to_every_supervisor_on_duty_and_one_accepts(
        client, services, make_resident, staff_client):
    sender = await staff_client("c1")
    first, second = await staff_client("s1", ("supervisor",)), await staff_client("s2", ("supervisor",))
    case_id = await taken_case(services, make_resident, sender)
    await sender.post(f"/console/api/cases/{case_id}/transfer", {"to": "supervisor"})
    for supervisor in (first, second):
        assert [c["id"] for c in (await supervisor.get("/console/api/queue"))[1]["offers"]] == [case_id]
    results = await asyncio.gather(first.post(f"/console/api/cases/{case_id}/transfer/accept"),
                                   second.post(f"/console/api/cases/{case_id}/transfer/accept"))
    assert sorted(status for status, _ in results) == [200, 409]
    assert await holder_of(services, case_id) in (first.id, second.id)


async def test_a_high_risk_case_goes_back_to_the_queue_only_with_a_note(client, services, make_resident,
                                                                        staff_client):
    counsellor = await staff_client("c1")
    case_id = await taken_case(services, make_resident, counsellor, level=3)
    status, answer = await counsellor.post(f"/console/api/cases/{case_id}/requeue", {"note": "  "})
    assert status == 400 and "备注" in answer["error"]
    assert await holder_of(services, case_id) == counsellor.id
    status, _ = await counsellor.post(f"/console/api/cases/{case_id}/requeue", {"note": "需要女性咨询师，已告知来访者"})
    assert status == 200 and await CaseQueue(services.redis).waiting() == [case_id]
    async with services.db() as session:
        assert [n.body for n in await session.scalars(select(Note).where(Note.case_id == case_id))] == \
            ["需要女性咨询师，已告知来访者"]
    low = await taken_case(services, make_resident, counsellor, "o-low", level=2)
    assert (await counsellor.post(f"/console/api/cases/{low}/requeue"))[0] == 200


async def test_a_whisper_reaches_only_the_counsellor_at_once_and_is_in_the_timeline(
        client, services, make_resident, staff_client):
    counsellor, other = await staff_client("c1"), await staff_client("c2")
    supervisor = await staff_client("sup", ("supervisor",))
    case_id = await taken_case(services, make_resident, counsellor)
    mine, theirs = await counsellor.ws(), await other.ws()
    for ws in (mine, theirs):
        await next_event(ws, "hello")
    assert (await counsellor.post(f"/console/api/cases/{case_id}/whisper", {"body": "x"}))[0] == 403
    status, said = await supervisor.post(f"/console/api/cases/{case_id}/whisper", {"body": "先问问她今晚是否安全"})
    assert status == 200
    heard = await next_event(mine, "whisper")
    assert heard["note"]["body"] == "先问问她今晚是否安全" and heard["note"]["author"] == "sup"
    await supervisor.post(f"/console/api/cases/{case_id}/whisper", {"body": "second"})
    await next_event(mine, "whisper")
    await events.publish(services.redis, "callback")  # an event everyone hears, after the whispers
    assert "whisper" not in await types_until(theirs, "callback")
    status, detail = await counsellor.get(f"/console/api/cases/{case_id}")
    assert "先问问她今晚是否安全" in [n["body"] for n in detail["notes"]]
    assert "whispered" in [s["kind"] for s in detail["timeline"]]
    for ws in (mine, theirs):
        await ws.close()


async def test_two_supervisors_taking_over_at_once_one_wins_and_the_other_is_told(
        client, services, make_resident, staff_client):
    counsellor = await staff_client("c1")
    first = await staff_client("s1", ("supervisor",), max_chats=1)
    second = await staff_client("s2", ("supervisor",))
    await taken_case(services, make_resident, first, "o-full")  # at their cap: a take-over still goes through
    case_id = await taken_case(services, make_resident, counsellor)
    ws = await counsellor.ws()
    await next_event(ws, "hello")
    results = await asyncio.gather(first.post(f"/console/api/cases/{case_id}/takeover"),
                                   second.post(f"/console/api/cases/{case_id}/takeover"))
    (won_status, won), (lost_status, lost) = sorted(results, key=lambda r: r[0])
    assert (won_status, lost_status) == (200, 409)
    winner = won["case"]["counsellor_id"]
    assert await holder_of(services, case_id) == winner
    assert ("s1" if winner == first.id else "s2") in lost["error"]
    told = await next_event(ws, "taken_over")
    assert told["from_id"] == counsellor.id and told["counsellor_id"] == winner
    assert [k for k, _ in await timeline(services, case_id)].count("taken_over") == 1
    assert (await counsellor.post(f"/console/api/cases/{case_id}/messages", {"text": "hi"}))[0] == 409
    await ws.close()


async def test_a_supervisor_reassigns_a_case_to_someone_on_duty(client, services, make_resident, staff_client):
    first, second = await staff_client("c1"), await staff_client("c2")
    off = await staff_client("c3", on_duty=False)
    supervisor = await staff_client("sup", ("supervisor",))
    case_id = await taken_case(services, make_resident, first)
    status, answer = await supervisor.post(f"/console/api/cases/{case_id}/reassign", {"to": off.id})
    assert status == 409 and "值班" in answer["error"]
    status, _ = await supervisor.post(f"/console/api/cases/{case_id}/reassign", {"to": second.id})
    assert status == 200 and await holder_of(services, case_id) == second.id
    assert (await timeline(services, case_id))[-1] == ("reassigned", f"{first.id}->{second.id}")
    assert (await first.post(f"/console/api/cases/{case_id}/reassign", {"to": first.id}))[0] == 403


async def test_a_vanished_console_keeps_its_case_for_the_grace_then_alerts_supervisors_for_level_3(
        client, services, make_resident, staff_client):
    counsellor, colleague = await staff_client("c1"), await staff_client("c2")
    supervisor = await staff_client("sup", ("supervisor",))
    earlier = (await request_handoff(services, await make_resident("o-earlier"), reason="request", level=3)).case_id
    case_id = await taken_case(services, make_resident, counsellor, level=3)
    later = (await request_handoff(services, await make_resident("o-later"), reason="request", level=1)).case_id
    watching, other = await supervisor.ws(), await colleague.ws()
    for ws in (watching, other):
        await next_event(ws, "hello")
    last_beat = now_ms()
    await Presence(services.redis).beat(counsellor.id, "online", last_beat)
    assert await requeue_vanished(services, now=last_beat + CONSOLE_GONE_AFTER_MS - 1000) == []
    assert await requeue_vanished(services, now=last_beat + CONSOLE_GONE_AFTER_MS) == [case_id]
    alert = await next_event(watching, "console_gone")
    assert alert["case_id"] == case_id and alert["level"] == 3 and alert["counsellor"] == "c1"
    assert await CaseQueue(services.redis).waiting() == [earlier, case_id, later]  # its risk position
    assert ("requeued", "console gone") in await timeline(services, case_id)
    await events.publish(services.redis, "callback")  # a later event: the alert would have come before it
    assert "console_gone" not in await types_until(other, "callback")
    for ws in (watching, other):
        await ws.close()
