"""What handoff tells residents, from the one `Knowledge` the worker loaded at start (`Services.knowledge`):
texts, the hotline, the nearest station. Building a reply is a dictionary lookup."""
from __future__ import annotations

import re
from datetime import datetime

from bot import localtime
from knowledge.library import Knowledge
from knowledge.stations import Station, StationMap
from knowledge.texts import Texts

CANNED_PREFIX = "handoff.canned_"
LANGS = ("zh-Hans", "zh-Hant", "en")


def say(knowledge: Knowledge, key: str, lang: str, **values: object) -> str:
    return knowledge.texts.get(f"handoff.{key}", lang, **values)


def home_station(stations: StationMap, area: str) -> Station:
    """The resident's county centre when their area is known, else the city centre."""
    all_stations = stations.stations()
    county_ids = {c.id for c in stations.counties()}
    if area in county_ids:
        for station in all_stations:
            if station.county == area and station.level == "county":
                return station
    return next((s for s in all_stations if s.level == "city"), all_stations[0])


def local_hotline(knowledge: Knowledge, area: str = "") -> str:
    return knowledge.stations.hotline_for_county(home_station(knowledge.stations, area).county)


def station_line(knowledge: Knowledge, area: str, lang: str, at: datetime) -> str:
    """One line about the station the resident can visit, with today's hours, ending in a newline."""
    station = home_station(knowledge.stations, area)
    local = at.astimezone(localtime.zone())
    ranges = station.hours[local.weekday()]
    name = station.name.get(lang)
    if not ranges:
        return say(knowledge, "station_closed", lang, name=name, phone=station.phone) + "\n"
    hours = "、".join(f"{a:%H:%M}-{'24:00' if b.hour == 23 and b.minute == 59 else f'{b:%H:%M}'}"
                     for a, b in ranges)
    return say(knowledge, "station_open", lang, name=name, hours=hours, phone=station.phone) + "\n"


def wait_text(knowledge: Knowledge, seconds: int, lang: str) -> str:
    if seconds < 60:
        return say(knowledge, "wait_soon", lang)
    return say(knowledge, "wait_minutes", lang, minutes=max(1, round(seconds / 60)))


def keyword_pattern(texts: Texts, name: str) -> re.Pattern:
    """Keywords in every language, matched at the start of a message (e.g. "回电 138…")."""
    words = {w.strip().lower() for lang in LANGS
             for w in texts.get(f"handoff.keywords_{name}", lang).split("|") if w.strip()}
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"^\s*(?:{alternatives})", re.IGNORECASE)


def canned(texts: Texts, lang: str = "zh-Hans") -> list[dict]:
    return [{"key": key[len(CANNED_PREFIX):], "text": texts.get(key, lang)}
            for key in texts.keys() if key.startswith(CANNED_PREFIX)]
