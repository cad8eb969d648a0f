"""What handoff tells residents, read from `knowledge/` once: texts, the hotline, the nearest station.

The content is immutable data, loaded once per process (at start, off the event loop, by
`handoff.web`), so building a reply is a dictionary lookup.
"""
from __future__ import annotations

import functools
import re
from datetime import datetime

from bot import localtime
from knowledge.stations import Station, StationMap, load_stations
from knowledge.texts import Texts, load_texts

CANNED_PREFIX = "handoff.canned_"
LANGS = ("zh-Hans", "zh-Hant", "en")


@functools.cache
def texts() -> Texts:
    return load_texts()


@functools.cache
def stations() -> StationMap:
    return load_stations()


def load_all() -> None:
    """Load and validate everything handoff needs, so a bad file stops the start, not a resident's turn."""
    texts()
    stations()
    keyword_pattern("callback")
    keyword_pattern("cancel")


def say(key: str, lang: str, **values: object) -> str:
    return texts().get(f"handoff.{key}", lang, **values)


def home_station(area: str) -> Station:
    """The resident's county centre when their area is known, else the city centre."""
    all_stations = stations().stations()
    county_ids = {c.id for c in stations().counties()}
    if area in county_ids:
        for station in all_stations:
            if station.county == area and station.level == "county":
                return station
    return next((s for s in all_stations if s.level == "city"), all_stations[0])


def local_hotline(area: str = "") -> str:
    return stations().hotline_for_county(home_station(area).county)


def station_line(area: str, lang: str, at: datetime) -> str:
    """One line about the station the resident can visit, with today's hours, ending in a newline."""
    station = home_station(area)
    local = at.astimezone(localtime.zone())
    ranges = station.hours[local.weekday()]
    name = station.name.get(lang)
    if not ranges:
        return say("station_closed", lang, name=name, phone=station.phone) + "\n"
    hours = "、".join(f"{a:%H:%M}-{'24:00' if b.hour == 23 and b.minute == 59 else f'{b:%H:%M}'}"
                     for a, b in ranges)
    return say("station_open", lang, name=name, hours=hours, phone=station.phone) + "\n"


def wait_text(seconds: int, lang: str) -> str:
    if seconds < 60:
        return say("wait_soon", lang)
    return say("wait_minutes", lang, minutes=max(1, round(seconds / 60)))


@functools.cache
def keyword_pattern(name: str) -> re.Pattern:
    """Keywords in every language, matched at the start of a message (e.g. "回电 138…")."""
    words = {w.strip().lower() for lang in LANGS
             for w in texts().get(f"handoff.keywords_{name}", lang).split("|") if w.strip()}
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"^\s*(?:{alternatives})", re.IGNORECASE)


def canned(lang: str = "zh-Hans") -> list[dict]:
    return [{"key": key[len(CANNED_PREFIX):], "text": texts().get(key, lang)}
            for key in texts().keys() if key.startswith(CANNED_PREFIX)]
