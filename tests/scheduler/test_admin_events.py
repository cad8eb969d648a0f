"""The events admin's form saves through the events API's own checks: what one refuses, so does the other."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select

from flows.models import Event
from tests.scheduler.test_admin import as_admin, csrf

FORM = {"title_zh": " 亲子沟通讲座 ", "title_en": "", "description": "", "station_id": "qx-city",
        "starts_at": "2031-05-01T19:00", "ends_at": "2031-05-01T20:30", "capacity": "30"}


async def events(services) -> list[Event]:
    async with services.db() as session:
        return list(await session.scalars(select(Event)))


async def test_the_form_creates_an_event_in_local_time(sched_client, services):
    client = await as_admin(sched_client, services)
    token = await csrf(client, "/admin/events")
    resp = await client.post("/admin/events", data={"_csrf": token, **FORM}, allow_redirects=False)
    assert resp.status == 302
    [event] = await events(services)
    assert (event.title_zh, event.station_id, event.capacity, event.cancelled) == ("亲子沟通讲座", "qx-city", 30, False)
    assert event.starts_at == datetime(2031, 5, 1, 11, 0, tzinfo=timezone.utc)  # 19:00 in Asia/Shanghai


async def test_the_form_refuses_an_event_at_an_unknown_station_and_saves_nothing(sched_client, services):
    client = await as_admin(sched_client, services)
    token = await csrf(client, "/admin/events")
    resp = await client.post("/admin/events", data={"_csrf": token, **FORM, "station_id": "nowhere"})
    assert resp.status == 400 and "unknown station_id 'nowhere'" in await resp.text()
    async with services.db() as session:
        assert await session.scalar(select(func.count()).select_from(Event)) == 0


async def test_an_edit_the_api_would_refuse_leaves_the_event_as_it_was(sched_client, services):
    client = await as_admin(sched_client, services)
    token = await csrf(client, "/admin/events")
    await client.post("/admin/events", data={"_csrf": token, **FORM})
    [event] = await events(services)
    for change, message in (({"station_id": "nowhere"}, "unknown station_id"),
                            ({"capacity": "100001"}, "'capacity' must be a whole number"),
                            ({"ends_at": "2031-05-01T18:00"}, "'ends_at' must be after 'starts_at'")):
        resp = await client.post(f"/admin/events/{event.id}", data={"_csrf": token, **FORM, **change})
        assert resp.status == 400 and message in await resp.text(), change
    [kept] = await events(services)
    assert (kept.station_id, kept.capacity, kept.ends_at) == ("qx-city", 30, event.ends_at)
