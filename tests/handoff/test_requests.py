"""request_handoff: one open case per resident, ordered by risk, and what the resident is told."""
from __future__ import annotations

from handoff.queue import CaseQueue
from handoff.requests import request_handoff


async def test_a_request_opens_a_waiting_case_and_tells_the_place_in_queue(services, make_staff, make_resident):
    await make_staff("c1")
    ref = await make_resident("o-req-1")
    ticket = await request_handoff(services, ref, reason="request", level=0)
    assert ticket.on_duty and ticket.position == 1 and ticket.case_id
    text = "\n".join(r.text for r in ticket.replies)
    assert "第 1 位" in text and "12356" in text and "110" in text
    assert await CaseQueue(services.redis).waiting() == [ticket.case_id]


async def test_asking_again_returns_the_open_case_and_raises_its_level(services, make_staff, make_resident):
    await make_staff("c1")
    calm = await make_resident("o-req-calm")
    ref = await make_resident("o-req-2")
    first_calm = await request_handoff(services, calm, reason="request", level=1)
    first = await request_handoff(services, ref, reason="request", level=0)
    again = await request_handoff(services, ref, reason="crisis", level=4, evidence="遗书")
    assert again.case_id == first.case_id and again.level == 4 and again.position == 1
    assert await CaseQueue(services.redis).waiting() == [first.case_id, first_calm.case_id]


async def test_level_4_goes_to_the_head_of_the_queue(services, make_staff, make_resident):
    await make_staff("c1")
    ids = []
    for n, level in enumerate([0, 2, 3, 4, 1]):
        ref = await make_resident(f"o-order-{n}")
        ids.append((await request_handoff(services, ref, reason="request", level=level)).case_id)
    assert await CaseQueue(services.redis).waiting() == [ids[3], ids[2], ids[1], ids[4], ids[0]]


async def test_with_nobody_on_duty_the_resident_gets_numbers_station_and_call_back(services, make_resident):
    ref = await make_resident("o-offduty")
    ticket = await request_handoff(services, ref, reason="request", level=2)
    text = ticket.replies[0].text
    assert not ticket.on_duty
    assert "12356" in text and "0700-8861 2356" in text and "回电" in text and "指导中心" in text
