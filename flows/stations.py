"""The station map: the nearest open stations for a location, or a county then township from a list.

Each station comes with a map link (Amap's marker URI: it opens the Amap app or its web map at the
station, named) and its number written as WeChat recognises a number to call: digits and one dash,
no spaces, so a tap dials it.
"""
from __future__ import annotations

from datetime import datetime, time
from urllib.parse import urlencode

from sqlalchemy import update

from bot import localtime
from bot.db import utcnow
from bot.models import Resident
from flows.base import DONE, Flow, text_of
from flows.context import Ctx, numbered, parse_number
from knowledge.stations import County, Station, distance_km

NEAREST = 3


class StationsFlow(Flow):
    name = "stations"
    states = ["county", "township"]
    transitions = [
        {"trigger": "begin", "source": "idle", "dest": "county", "after": "show_counties"},
        {"trigger": "located", "source": ["idle", "county", "township"], "dest": DONE, "after": "show_nearest"},
        {"trigger": "receive", "source": "county", "dest": "township", "conditions": "picks_county",
         "after": "show_townships"},
        {"trigger": "receive", "source": "county", "dest": "county", "after": "repeat_counties"},
        {"trigger": "receive", "source": "township", "dest": DONE, "conditions": "picks_township",
         "after": "show_township"},
        {"trigger": "receive", "source": "township", "dest": "township", "after": "repeat_townships"},
    ]

    @property
    def map(self):
        return self.ctx.knowledge.stations

    def _choice(self, event, count: int) -> int | None:
        number = parse_number(text_of(event))
        return number - 1 if number is not None and 1 <= number <= count else None

    def picks_county(self, event) -> bool:
        return self._choice(event, len(self.map.counties())) is not None

    def picks_township(self, event) -> bool:
        return self._choice(event, len(self._county().townships)) is not None

    def _county(self) -> County:
        return next(c for c in self.map.counties() if c.id == self.data["county"])

    def show_counties(self, event) -> None:
        lines = [county.name.get(self.ctx.lang) for county in self.map.counties()]
        self.say(self.t("stations.ask", counties=numbered(lines)))

    def repeat_counties(self, event) -> None:
        self.say(self.t("invalid_option", options=f"1-{len(self.map.counties())}"))
        self.show_counties(event)

    async def show_townships(self, event) -> None:
        county = self.map.counties()[self._choice(event, len(self.map.counties()))]
        self.data = {"county": county.id}
        await remember_area(self.ctx, county.id)
        self._say_townships()

    def _say_townships(self) -> None:
        county = self._county()
        lines = [township.name.get(self.ctx.lang) for township in county.townships]
        self.say(self.t("stations.townships", county=county.name.get(self.ctx.lang), townships=numbered(lines)))

    def repeat_townships(self, event) -> None:
        self.say(self.t("invalid_option", options=f"1-{len(self._county().townships)}"))
        self._say_townships()

    def show_township(self, event) -> None:
        county = self._county()
        township = county.townships[self._choice(event, len(county.townships))]
        here = [s for s in self.map.stations() if s.township == township.id]
        centre = [s for s in self.map.stations() if s.county == county.id and s.level == "county"]
        lines = [station_text(self.ctx, s, utcnow()) for s in here + centre]
        self.say(self.t("stations.in_township", township=township.name.get(self.ctx.lang),
                        stations="\n".join(lines), county=county.name.get(self.ctx.lang),
                        hotline=dialable(county.hotline)))

    async def show_nearest(self, event) -> None:
        latitude, longitude = event.args
        self.say(await nearest_text(self.ctx, latitude, longitude))


async def nearest_text(ctx: Ctx, latitude: float, longitude: float, place: str = "") -> str:
    """The stations nearest the resident's location, or nearest a `place` they named."""
    stations, now = ctx.knowledge.stations, utcnow()
    found = stations.nearest(latitude, longitude, now, localtime.zone(), n=NEAREST)
    key = "stations.near_place" if place else "stations.nearest"
    if not found:
        found = stations.nearest(latitude, longitude, now, localtime.zone(), n=NEAREST, open_only=False)
        key = "stations.near_place_none_open" if place else "stations.none_open"
    county_id = min(stations.stations(), key=lambda s: _km(s, latitude, longitude)).county
    county = next(c for c in stations.counties() if c.id == county_id)
    await remember_area(ctx, county.id)
    lines = [station_text(ctx, station, now, km) for station, km in found]
    values = {"place": place} if place else {}
    return ctx.t(key, stations="\n".join(lines), county=county.name.get(ctx.lang), hotline=dialable(county.hotline),
                 **values)


def _km(station: Station, latitude: float, longitude: float) -> float:
    return distance_km(latitude, longitude, station.lat, station.lon)


def station_text(ctx: Ctx, station: Station, now: datetime, km: float | None = None) -> str:
    distance = ctx.t("stations.distance", km=f"{km:.1f}") if km is not None else ""
    return ctx.t("stations.station", name=station.name.get(ctx.lang), distance=distance,
                 hours=hours_today(ctx, station, now), address=station.address, phone=dialable(station.phone),
                 map=map_link(station, ctx.lang))


MAP_URI = "https://uri.amap.com/marker"


def map_link(station: Station, lang: str) -> str:
    """Amap's marker URI for the station. Coordinates in stations.yaml are GCJ-02, as Chinese maps
    and WeChat's own location messages give them (coordinate=gaode: no conversion)."""
    return MAP_URI + "?" + urlencode({"position": f"{station.lon:.6f},{station.lat:.6f}",
                                      "name": station.name.get(lang), "src": "xinzhan", "coordinate": "gaode",
                                      "callnative": "1"})


def dialable(number: str) -> str:
    """"0700-8861 2356" -> "0700-88612356": a space splits the number for WeChat's tap-to-call."""
    return "".join(number.split())


def hours_today(ctx: Ctx, station: Station, now: datetime) -> str:
    ranges = station.hours[now.astimezone(localtime.zone()).weekday()]
    if not ranges:
        return ctx.t("stations.closed_today")
    return ctx.t("stations.hours_today", ranges=", ".join(f"{_clock(a)}-{_clock(b)}" for a, b in ranges))


def _clock(moment: time) -> str:
    return "24:00" if moment >= time(23, 59, 59) else moment.strftime("%H:%M")


async def remember_area(ctx: Ctx, county_id: str) -> None:
    """The resident's county, so a counsellor request gives them their local hotline."""
    async with ctx.services.db.begin() as session:
        await session.execute(update(Resident).where(Resident.id == ctx.ref.id).values(area=county_id))
