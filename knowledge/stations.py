"""The four-level station network (city, county, township, community) and "which station is near".

`knowledge/data/stations.yaml` lists counties (each with its hotline and townships) and stations.
Opening hours are local wall-clock times, written as day specs mapped to ranges::

    hours: {mon-fri: ["08:30-12:00", "14:00-17:30"], "tue,thu": "19:00-21:00", sat: "09:00-12:00"}

A day named by several specs is open in all of their ranges. Public holidays are not modelled.
The local zone is the service's (XZ_TIMEZONE, bot.localtime); callers pass it in, so knowledge/
holds no process-wide state and imports nothing above it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, time, tzinfo
from pathlib import Path

from knowledge.content import (
    DATA_DIR, LocalText, YamlMap, allow_only, load_mapping, local_text, local_text_of, mappings_of,
    optional, require,
)

LEVELS = ("city", "county", "township", "community")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EARTH_RADIUS_KM = 6371.0088
_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


@dataclass(frozen=True)
class Township:
    id: str
    county: str
    name: LocalText


@dataclass(frozen=True)
class County:
    id: str
    name: LocalText
    hotline: str
    townships: tuple[Township, ...]


@dataclass(frozen=True)
class Station:
    id: str
    name: LocalText
    level: str
    county: str
    township: str | None
    address: str
    lat: float
    lon: float
    phone: str
    hours: tuple[tuple[tuple[time, time], ...], ...]  # indexed by weekday, Monday = 0

    def is_open(self, at: datetime, zone: tzinfo) -> bool:
        """Open at `at`, read on the wall clock of `zone`; a naive datetime is that wall-clock time."""
        local = at.astimezone(zone) if at.tzinfo else at
        now = local.time()
        return any(start <= now < end for start, end in self.hours[local.weekday()])


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance; plenty accurate within one city."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


class StationMap:
    def __init__(self, city: LocalText, counties: list[County], stations: list[Station]) -> None:
        self.city = city
        self._counties = {c.id: c for c in counties}
        self._stations = {s.id: s for s in stations}

    def get(self, station_id: str) -> Station:
        return self._stations[station_id]

    def stations(self) -> list[Station]:
        return list(self._stations.values())

    def counties(self) -> list[County]:
        return list(self._counties.values())

    def townships(self, county: str) -> list[Township]:
        return list(self._county(county).townships)

    def nearest(self, lat: float, lon: float, at: datetime, zone: tzinfo, n: int = 3,
                open_only: bool = True) -> list[tuple[Station, float]]:
        """The `n` closest stations with their distance in km; only those open at `at` (in `zone`) by default."""
        candidates = [s for s in self._stations.values() if not open_only or s.is_open(at, zone)]
        ranked = sorted(((s, distance_km(lat, lon, s.lat, s.lon)) for s in candidates),
                        key=lambda pair: pair[1])
        return ranked[:n]

    def hotline_for(self, lat: float, lon: float) -> str:
        """The hotline of the county the resident is probably in: that of the nearest station."""
        station = min(self._stations.values(), key=lambda s: distance_km(lat, lon, s.lat, s.lon))
        return self.hotline_for_county(station.county)

    def hotline_for_county(self, county: str) -> str:
        return self._county(county).hotline

    def _county(self, county: str) -> County:
        try:
            return self._counties[county]
        except KeyError:
            raise ValueError(f"unknown county {county!r}; known: {', '.join(self._counties)}") from None


def load_stations(path: Path | None = None) -> StationMap:
    data = load_mapping(path or DATA_DIR / "stations.yaml")
    allow_only(data, frozenset({"city", "counties", "stations"}))
    counties = [_parse_county(raw) for raw in mappings_of(data, "counties")]
    townships = {t.id: t for c in counties for t in c.townships}
    stations: dict[str, Station] = {}
    for raw in mappings_of(data, "stations"):
        station = _parse_station(raw, {c.id for c in counties}, townships)
        if station.id in stations:
            raise raw.error(f"station id {station.id!r} is used twice", "id")
        stations[station.id] = station
    return StationMap(local_text(data, "city"), counties, list(stations.values()))


def _parse_county(raw: YamlMap) -> County:
    allow_only(raw, frozenset({"id", "name", "hotline", "townships"}))
    county_id = require(raw, "id", str)
    townships = tuple(
        Township(id=require(t, "id", str), county=county_id, name=local_text_of(t, frozenset({"id"})))
        for t in mappings_of(raw, "townships"))
    return County(id=county_id, name=local_text(raw, "name"), hotline=require(raw, "hotline", str),
                  townships=townships)


def _parse_station(raw: YamlMap, county_ids: set[str], townships: dict[str, Township]) -> Station:
    allow_only(raw, frozenset({"id", "name", "level", "county", "township", "address", "lat", "lon",
                               "hours", "phone"}))
    level, county = require(raw, "level", str), require(raw, "county", str)
    township = optional(raw, "township", str)
    if level not in LEVELS:
        raise raw.error(f"level {level!r} must be one of {', '.join(LEVELS)}", "level")
    if county not in county_ids:
        raise raw.error(f"unknown county {county!r}", "county")
    if township is not None and (township not in townships or townships[township].county != county):
        raise raw.error(f"township {township!r} is not a township of county {county!r}", "township")
    if township is None and level in ("township", "community"):
        raise raw.error(f"a {level} station needs a 'township'")
    lat, lon = require(raw, "lat", float), require(raw, "lon", float)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise raw.error(f"lat/lon {lat}, {lon} is not a place on Earth", "lat")
    return Station(id=require(raw, "id", str), name=local_text(raw, "name"), level=level, county=county,
                   township=township, address=require(raw, "address", str), lat=float(lat),
                   lon=float(lon), phone=require(raw, "phone", str), hours=_parse_hours(raw))


def _parse_hours(station: YamlMap) -> tuple[tuple[tuple[time, time], ...], ...]:
    hours = require(station, "hours", YamlMap)
    by_day: list[list[tuple[time, time]]] = [[] for _ in DAYS]
    for spec, ranges in hours.items():
        days = _parse_days(hours, spec)
        for text in [ranges] if isinstance(ranges, str) else ranges or []:
            match = _RANGE.match(str(text))
            if not match:
                raise hours.error(f'opening hours {text!r} must look like "08:30-17:30" (quoted)', spec)
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            start, end = time(h1, m1), time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
            if end <= start:
                raise hours.error(f"opening hours {text!r} end before they start", spec)
            for day in days:
                by_day[day].append((start, end))
    return tuple(tuple(sorted(ranges)) for ranges in by_day)


def _parse_days(hours: YamlMap, spec: object) -> list[int]:
    """`mon`, `mon-fri`, `tue,thu`, `sat-sun` -> weekday numbers (Monday = 0)."""
    days: list[int] = []
    for part in str(spec).split(","):
        first, _, last = part.strip().partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise hours.error(f"day spec {spec!r} must use {', '.join(DAYS)} joined by '-' or ','", spec)
        start, end = DAYS.index(first), DAYS.index(last or first)
        if end < start:
            raise hours.error(f"day range {part!r} runs backwards", spec)
        days.extend(range(start, end + 1))
    return days
