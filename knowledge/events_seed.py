"""Demo events for a fresh database, placed relative to "now" so the demo never goes stale.

`knowledge/data/events.yaml` gives each event a day offset and a local start time instead of a
date; `load_event_seeds(now, zone)` turns them into datetimes in the service's local zone, which
the caller passes in (bot.localtime). Whoever owns the events table inserts the seeds; this module
only reads and checks the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path

from knowledge.content import (
    AUDIENCES, DATA_DIR, LocalText, YamlMap, allow_only, load_mapping, local_text, mappings_of, require,
)
from knowledge.stations import StationMap, load_stations

KINDS = ("lecture", "group", "outreach")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class EventSeed:
    id: str
    kind: str
    station: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    audiences: tuple[str, ...]
    title: LocalText
    description: LocalText


def load_event_seeds(now: datetime, zone: tzinfo, stations: StationMap | None = None,
                     path: Path | None = None) -> list[EventSeed]:
    """Events in start order, at local times in `zone`; `now` may be naive (a time in `zone`) or aware."""
    today = (now.astimezone(zone) if now.tzinfo else now).date()
    station_ids = {s.id for s in (stations or load_stations()).stations()}
    data = load_mapping(path or DATA_DIR / "events.yaml")
    allow_only(data, frozenset({"events"}))
    seeds: dict[str, EventSeed] = {}
    for raw in mappings_of(data, "events"):
        seed = _parse_event(raw, today, zone, station_ids)
        if seed.id in seeds:
            raise raw.error(f"event id {seed.id!r} is used twice", "id")
        seeds[seed.id] = seed
    return sorted(seeds.values(), key=lambda seed: seed.starts_at)


def _parse_event(raw: YamlMap, today: date, zone: tzinfo, station_ids: set[str]) -> EventSeed:
    allow_only(raw, frozenset({"id", "kind", "station", "in_days", "at", "minutes", "capacity",
                               "audiences", "title", "description"}))
    kind, station = require(raw, "kind", str), require(raw, "station", str)
    if kind not in KINDS:
        raise raw.error(f"kind {kind!r} must be one of {', '.join(KINDS)}", "kind")
    if station not in station_ids:
        raise raw.error(f"unknown station {station!r} (ids are in stations.yaml)", "station")
    clock = _CLOCK.match(str(require(raw, "at", str)))
    if not clock:
        raise raw.error("'at' must be a quoted local time like \"19:00\"", "at")
    for key in ("in_days", "minutes", "capacity"):
        if require(raw, key, int) < (0 if key == "in_days" else 1):
            raise raw.error(f"{key!r} must be {'0 or more' if key == 'in_days' else 'at least 1'}", key)
    audiences = tuple(require(raw, "audiences", list))
    unknown = [a for a in audiences if a not in AUDIENCES]
    if unknown or not audiences:
        raise raw.error(f"audiences must be some of {', '.join(sorted(AUDIENCES))}", "audiences")
    day = today + timedelta(days=raw["in_days"])
    starts_at = datetime.combine(day, time(int(clock[1]), int(clock[2])), tzinfo=zone)
    return EventSeed(id=require(raw, "id", str), kind=kind, station=station, starts_at=starts_at,
                     ends_at=starts_at + timedelta(minutes=raw["minutes"]), capacity=raw["capacity"],
                     audiences=audiences, title=local_text(raw, "title"),
                     description=local_text(raw, "description"))
