"""Events: listing, registration at capacity (also concurrently), waiting list and promotion,
my registrations, events near a location, the admin API and the demo seed."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.db import utcnow
from flows import registrations as regs
from flows.models import Event, Registration
from flows.web import seed_demo


async def add_event(services, *, capacity: int = 2, days: int = 3, station: str = "qx-city",
                    title: str = "睡眠讲座") -> Event:
    start = utcnow() + timedelta(days=days)
    event = Event(title_zh=title, title_en="Sleep talk", description="讲座介绍", description_en="About the talk",
                  starts_at=start, ends_at=start + timedelta(hours=2), station_id=station, capacity=capacity,
                  audiences=["general"], cancelled=False)
    async with services.db.begin() as session:
        session.add(event)
    return event


async def statuses(services, event_id: int) -> list[str]:
    async with services.db() as session:
        return list(await session.scalars(select(Registration.status).where(Registration.event_id == event_id)
                                          .order_by(Registration.created_at, Registration.id)))


async def test_no_events_says_so_with_the_menu(resident, say):
    assert await resident.say("活动") == say("events.none", menu=say("menu"))


async def test_list_detail_and_register(resident, services, say):
    event = await add_event(services, capacity=5)
    listing = await resident.say("活动")
    assert "1 " in listing and "睡眠讲座" in listing and "清溪市社会心理服务指导中心" in listing
    detail = await resident.say("1")
    assert "睡眠讲座" in detail and "讲座介绍" in detail and "已报名 0 人" in detail
    reply = await resident.say("1")
    assert reply.startswith("报名成功：睡眠讲座")
    assert await statuses(services, event.id) == ["registered"]
    assert await services.states.get(resident.openid) is None


async def test_registering_twice_is_once(resident, services, say):
    event = await add_event(services)
    await resident.answers("活动", "1", "1")
    reply = await resident.answers("活动", "1", "1")
    assert reply == say("events.already", status=say("events.status.registered"))
    assert await statuses(services, event.id) == ["registered"]


async def test_full_event_offers_the_waiting_list(make_resident, services, say):
    event = await add_event(services, capacity=1)
    first, second = await make_resident("o-ev-1"), await make_resident("o-ev-2")
    await first.answers("活动", "1", "1")
    assert say("events.full_mark") in await second.say("活动")
    detail = await second.say("1")
    assert "名额已满" in detail
    assert (await second.say("1")).startswith("已加入候补名单：睡眠讲座，您排在第 1 位")
    assert await statuses(services, event.id) == ["registered", "waitlisted"]


async def test_cancelling_promotes_the_first_waitlisted_and_tells_them(make_resident, services, mock_wechat, say):
    event = await add_event(services, capacity=1)
    people = [await make_resident(f"o-ev-{n}") for n in range(3)]
    for person in people:
        await person.answers("活动", "1", "1")
    assert await statuses(services, event.id) == ["registered", "waitlisted", "waitlisted"]
    mine = await people[0].say("我的报名")
    assert "1 " in mine and "已报名" in mine
    assert (await people[0].say("1")).startswith(say("events.cancelled", title="睡眠讲座"))
    async with services.db() as session:
        by_resident = dict((await session.execute(select(Registration.resident_id, Registration.status))).all())
    assert sorted(by_resident.values()) == ["cancelled", "registered", "waitlisted"]
    sent = mock_wechat.state.sent_to("o-ev-1")
    assert any("候补转为正式报名" in str(message) for message in sent)
    assert not mock_wechat.state.sent_to("o-ev-2")


async def test_my_registrations_when_there_are_none(resident, say):
    assert await resident.say("我的报名") == say("events.mine_empty")


async def test_concurrent_registrations_never_exceed_capacity(make_resident, services, platform):
    event = await add_event(services, capacity=3)
    people = [await make_resident(f"o-rush-{n}") for n in range(10)]
    for person in people:
        await person.answers("活动", "1")
    answers = await asyncio.gather(*(platform.text(person.openid, "1") for person in people))
    assert all(answer.status == 200 for answer in answers)
    found = await statuses(services, event.id)
    assert found.count("registered") == 3 and found.count("waitlisted") == 7
    places = sorted(int(a.text.split("第 ")[1].split(" 位")[0]) for a in answers if "候补" in a.text)
    assert places == list(range(1, 8))


async def test_concurrent_registrations_from_separate_sessions(make_resident, services):
    """The capacity check itself, many at once with no per-resident lock in front of it."""
    event = await add_event(services, capacity=4)
    people = [await make_resident(f"o-direct-{n}") for n in range(12)]
    async with services.db() as session:
        from bot.models import Resident
        ids = list(await session.scalars(select(Resident.id).where(Resident.openid.like("o-direct-%"))))
    outcomes = await asyncio.gather(*(regs.register(services, event.id, rid) for rid in ids))
    assert sorted(o.status for o in outcomes).count("registered") == 4
    async with services.db() as session:
        registered = await session.scalar(select(func.count()).select_from(Registration).where(
            Registration.event_id == event.id, Registration.status == "registered"))
    assert registered == 4 and len(people) == 12


async def test_events_near_a_location_come_first(resident, services):
    await add_event(services, station="qx-city", title="市中心讲座", days=2)
    far = await add_event(services, station="shimen-centre", title="石门小组", days=4)
    from knowledge.library import load_knowledge
    shimen = load_knowledge().stations.get(far.station_id)
    await resident.say("活动")
    reply = await resident.send_location(shimen.lat, shimen.lon)
    assert reply.index("石门小组") < reply.index("市中心讲座")


async def test_cancelled_or_past_events_are_not_listed(resident, services, say):
    event = await add_event(services)
    async with services.db.begin() as session:
        (await session.get(Event, event.id)).cancelled = True
    await add_event(services, days=-1)
    assert await resident.say("活动") == say("events.none", menu=say("menu"))


async def test_english_resident_sees_english_titles(resident, services):
    await add_event(services)
    await resident.say("English")
    assert "Sleep talk" in await resident.say("events")


# -- the demo seed and the admin API ---------------------------------------------------------------
async def test_demo_seed_is_idempotent(client, services):
    await seed_demo(client.server.app)
    await seed_demo(client.server.app)
    async with services.db() as session:
        events = list(await session.scalars(select(Event)))
    assert events and len({e.seed_key for e in events}) == len(events)
    assert all(e.starts_at > utcnow() - timedelta(days=1) for e in events)


EVENT = {"title_zh": "亲子沟通讲座", "title_en": "Talking with children", "starts_at": "2031-05-01T19:00:00+08:00",
         "ends_at": "2031-05-01T20:30:00+08:00", "station_id": "qx-city", "capacity": 30,
         "audiences": ["general", "new_parents"]}


async def test_admin_creates_reads_updates_and_cancels_events(client, staff_login):
    headers = await staff_login("admin1", "admin")
    resp = await client.post("/api/events", json=EVENT, headers=headers)
    assert resp.status == 201
    created = await resp.json()
    assert created["starts_at"] == "2031-05-01T11:00:00+00:00" and created["capacity"] == 30
    event_id = created["id"]
    resp = await client.patch(f"/api/events/{event_id}", json={"capacity": 40}, headers=headers)
    assert (await resp.json())["capacity"] == 40
    listing = await (await client.get("/api/events")).json()
    assert [e["id"] for e in listing["events"]] == [event_id]
    resp = await client.delete(f"/api/events/{event_id}", headers=headers)
    assert (await resp.json())["cancelled"] is True
    assert (await (await client.get(f"/api/events/{event_id}")).json())["cancelled"] is True


async def test_admin_sees_registrations_in_order(client, make_resident, services, staff_login):
    event = await add_event(services, capacity=1)
    for n in range(2):
        await (await make_resident(f"o-reg-{n}")).answers("活动", "1", "1")
    headers = await staff_login("admin1", "admin")
    body = await (await client.get(f"/api/events/{event.id}/registrations", headers=headers)).json()
    assert [(r["openid"], r["status"]) for r in body["registrations"]] == [
        ("o-reg-0", "registered"), ("o-reg-1", "waitlisted")]


@pytest.mark.parametrize("change,message", [
    ({"capacity": 0}, "'capacity' must be a whole number of at least 1"),
    ({"station_id": "nowhere"}, "unknown station_id"),
    ({"starts_at": "next tuesday"}, "'starts_at' must be an ISO 8601 time"),
    ({"ends_at": "2031-05-01T18:00:00+08:00"}, "'ends_at' must be after 'starts_at'"),
    ({"audiences": ["aliens"]}, "'audiences' must be a list of"),
    ({"colour": "red"}, "unknown fields: colour"),
])
async def test_bad_event_input_is_refused_and_nothing_saved(client, services, staff_login, change, message):
    headers = await staff_login("admin1", "admin")
    resp = await client.post("/api/events", json={**EVENT, **change}, headers=headers)
    assert resp.status == 400 and message in (await resp.json())["error"]
    async with services.db() as session:
        assert await session.scalar(select(func.count()).select_from(Event)) == 0


async def test_events_api_is_for_admins_only(client, staff_login):
    assert (await client.get("/api/events")).status == 401
    headers = await staff_login("counsellor1", "counsellor")
    assert (await client.post("/api/events", json=EVENT, headers=headers)).status == 403
