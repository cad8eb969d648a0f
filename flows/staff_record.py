"""What flows adds to the resident's record in the counsellor's console (bot.record_parts): their
assessments, grouped by scale for the trend, and their event registrations.

The console is handoff's and may not import flows, so flows hands it this part when it is set up.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.localtime import iso
from flows.models import Assessment, Event, Registration
from knowledge.stations import StationMap

RECENT_REGISTRATIONS = 10


async def staff_record(stations: StationMap, session: AsyncSession, resident_id: int) -> dict[str, object]:
    rows = await session.scalars(select(Assessment).where(Assessment.resident_id == resident_id)
                                 .order_by(Assessment.created_at))
    by_scale: dict[str, list[dict]] = {}
    for a in rows:
        by_scale.setdefault(a.scale, []).append({"total": a.total, "band": a.band, "flags": a.flags,
                                                 "at": iso(a.created_at)})
    regs = (await session.execute(select(Registration, Event).join(Event, Event.id == Registration.event_id)
                                  .where(Registration.resident_id == resident_id)
                                  .order_by(Event.starts_at.desc()).limit(RECENT_REGISTRATIONS))).all()
    return {"assessments": [{"scale": scale, "results": results} for scale, results in by_scale.items()],
            "registrations": [{"title": e.title_zh, "status": r.status, "starts_at": iso(e.starts_at),
                               "station": _station_name(stations, e.station_id)} for r, e in regs]}


def _station_name(stations: StationMap, station_id: str) -> str:
    try:
        return stations.get(station_id).name.get("zh-Hans")
    except KeyError:  # a station since removed from knowledge/ still names the registration
        return station_id
