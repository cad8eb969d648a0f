"""Data-subject requests: a supervisor approves an export (the resident's data as JSON) or a deletion."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.models import Message, Resident
from handoff.review.models import DataRequest
from handoff.review.requests import file_request
from tests.review.conftest import audit_rows, resident_of


async def test_asking_twice_files_one_request(services, world):
    first = await file_request(services, world.carol, "delete")
    assert (await file_request(services, world.carol, "delete")).id == first.id


async def test_approved_export_gives_the_residents_data_as_json(staff, services, world):
    request = await file_request(services, world.alice, "export")
    listing = await (await staff["sup"].get("/review/requests")).text()
    assert f"/review/requests/{request.id}/approve" in listing
    resp = await staff["sup"].post(f"/review/requests/{request.id}/approve")
    assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
    data = json.loads(await resp.text())["data"]
    assert data["residents"][0]["openid"] == "o-alice"
    assert any("失眠" in m["content"] for m in data["messages"])
    assert data["handoff_cases"][0]["outcome"] == "referred"
    assert {m["resident_id"] for m in data["messages"]} == {world.alice}
    actions = [(e.action, e.target_type) for e in await audit_rows(services)]
    assert ("request", "request") in actions and ("export", "resident") in actions


async def test_approved_deletion_removes_transcript_and_record(staff, services, world):
    request = await file_request(services, world.carol, "delete")
    resp = await staff["sup"].post(f"/review/requests/{request.id}/approve")
    assert resp.status == 303
    async with services.db() as session:
        assert await session.get(Resident, world.carol) is None
        left = await session.scalar(select(func.count()).select_from(Message).where(Message.resident_id == world.carol))
        kept = await session.get(DataRequest, request.id)
    assert left == 0 and kept.status == "approved" and kept.resident_id is None and kept.subject
    assert ("delete", "resident", str(world.carol)) in [(e.action, e.target_type, e.target_id)
                                                         for e in await audit_rows(services)]


async def test_deletion_waits_while_a_case_is_open(staff, services, world):
    bob = await resident_of(services, "o-bob")  # his case is active
    request = await file_request(services, bob.id, "delete")
    resp = await staff["sup"].post(f"/review/requests/{request.id}/approve")
    assert resp.status == 409 and "open case" in await resp.text()


async def test_a_rejected_request_changes_nothing_and_cannot_be_decided_again(staff, services, world):
    request = await file_request(services, world.carol, "delete")
    assert (await staff["sup"].post(f"/review/requests/{request.id}/reject", {"note": "身份未核实"})).status == 303
    assert (await staff["sup"].post(f"/review/requests/{request.id}/approve")).status == 409
    async with services.db() as session:
        assert await session.get(Resident, world.carol) is not None
