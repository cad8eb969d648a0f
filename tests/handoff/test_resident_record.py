"""The console's resident record shows what flows keeps about the resident (their assessments by
scale, their event registrations), which flows adds to it when it is set up (bot.record_parts)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.db import utcnow
from bot.models import Resident
from flows.models import Assessment, Event, Registration
from tests.conftest import settle


async def test_the_console_record_shows_assessments_and_registrations(services, platform, staff_client):
    await platform.text("o-record-seen", "人工")
    await settle(services)
    start = utcnow() + timedelta(days=2)
    async with services.db.begin() as session:
        resident_id = await session.scalar(select(Resident.id).where(Resident.openid == "o-record-seen"))
        event = Event(title_zh="睡眠讲座", starts_at=start, ends_at=start + timedelta(hours=2),
                      station_id="qx-city", capacity=10, audiences=["general"])
        session.add(event)
        await session.flush()
        session.add(Registration(event_id=event.id, resident_id=resident_id, status="registered"))
        for total, days_ago in ((14, 30), (9, 1)):
            session.add(Assessment(resident_id=resident_id, scale="PHQ-9", answers=[1] * 9, total=total,
                                   band="mild", created_at=utcnow() - timedelta(days=days_ago)))
    counsellor = await staff_client("c-record")
    status, taken = await counsellor.post("/console/api/take")
    assert status == 200
    status, detail = await counsellor.get(f"/console/api/cases/{taken['case']['id']}")
    record = detail["record"]
    assert [(a["scale"], [r["total"] for r in a["results"]]) for a in record["assessments"]] == [("PHQ-9", [14, 9])]
    [registration] = record["registrations"]
    assert (registration["title"], registration["status"]) == ("睡眠讲座", "registered")
    assert registration["station"] and registration["station"] != "qx-city"  # the station's name, not its id
