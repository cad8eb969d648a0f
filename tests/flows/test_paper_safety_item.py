"""A safety item above zero on a paper questionnaire (POST /api/assessments) opens a case, once."""
from __future__ import annotations

from sqlalchemy import select

from flows.models import Assessment
from handoff.models import Case
from handoff.queue import CaseQueue


async def cases(services) -> list[Case]:
    async with services.db() as session:
        return list(await session.scalars(select(Case).order_by(Case.id)))


async def post(client, headers, resident, scale: str, answers: list[int]) -> dict:
    resp = await client.post("/api/assessments", json={"openid": resident.openid, "scale": scale,
                                                       "answers": answers, "paper_consent": True}, headers=headers)
    assert resp.status == 201
    return await resp.json()


async def test_a_positive_item_9_on_paper_opens_a_queued_case_and_says_its_id(
        client, resident, services, staff_login, mock_wechat):
    headers = await staff_login("counsellor1", "counsellor")
    body = await post(client, headers, resident, "PHQ-9", [0] * 8 + [2])
    [case] = await cases(services)
    assert body["case_id"] == case.id and body["safety_positive"] is True
    assert (case.level, case.reason, case.status) == (2, "assessment:PHQ-9:item9_positive", "waiting")
    assert case.resident_id == body["resident_id"] and "PHQ-9 item 9 = 2" in case.evidence
    assert await CaseQueue(services.redis).waiting() == [case.id]
    assert mock_wechat.state.sent_to(resident.openid) == []  # the resident is not in the chat: nothing is sent


async def test_epds_item_10_is_named_by_its_keyed_score(client, resident, services, staff_login):
    headers = await staff_login("counsellor1", "counsellor")
    body = await post(client, headers, resident, "EPDS", [0, 0, 3, 0, 3, 3, 3, 3, 3, 0])  # first option: 3
    [case] = await cases(services)
    assert body["case_id"] == case.id and case.reason == "assessment:EPDS:item10_positive"
    assert "EPDS item 10 = 3" in case.evidence


async def test_a_second_positive_form_finds_the_open_case(client, resident, services, staff_login):
    headers = await staff_login("counsellor1", "counsellor")
    first = await post(client, headers, resident, "PHQ-9", [0] * 8 + [1])
    second = await post(client, headers, resident, "PHQ-9", [0] * 8 + [3])
    [case] = await cases(services)
    assert first["case_id"] == second["case_id"] == case.id
    async with services.db() as session:
        assert len(list(await session.scalars(select(Assessment)))) == 2


async def test_a_form_with_the_safety_item_at_zero_opens_no_case(client, resident, services, staff_login):
    headers = await staff_login("counsellor1", "counsellor")
    body = await post(client, headers, resident, "PHQ-9", [3] * 8 + [0])
    assert body["case_id"] is None and await cases(services) == []


async def test_without_the_paper_consent_the_form_is_refused_but_its_safety_item_still_opens_the_case(
        client, resident, services, staff_login):
    headers = await staff_login("counsellor1", "counsellor")
    resp = await client.post("/api/assessments", json={"openid": resident.openid, "scale": "PHQ-9",
                                                       "answers": [0] * 8 + [2]}, headers=headers)
    assert resp.status == 400
    [case] = await cases(services)
    assert (await resp.json())["case_id"] == case.id and case.status == "waiting"
    async with services.db() as session:
        assert list(await session.scalars(select(Assessment))) == []
