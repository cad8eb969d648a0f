"""Slots: the details of a request that we hold as data (scales, tip topics, places, actions).

The intent is learned; a slot is looked up, because its values are ours: a scale exists or it
does not, a place is one of the stations' areas or addresses. Each slot is a word list matched in
the normalised message, with the words indexed by first character, so a lookup costs well under a
microsecond per character of the (bounded) message.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from knowledge.content import DATA_DIR, ContentError, YamlMap, load_mapping
from knowledge.crisis.normalize import normalize
from knowledge.stations import StationMap

SLOTS_FILE = DATA_DIR / "intents" / "slots.yaml"
# Which slots each intent carries; an intent not listed has none.
SLOTS_OF = {"assessment": ("scale",), "record": ("scale",), "tips": ("topic",), "feeling": ("topic",),
            "my_events": ("action",), "greeting": ("greeting",), "language": ("language",),
            "stations": ("place",)}
_ROAD = re.compile(r"^[\u4e00-\u9fff]{1,5}?(?:大道|大街|路|街)(?=[\d\u4e00-\u9fff])")
_STATION_SUFFIX = re.compile(r"心灵驿站$")
_AREA_SUFFIX = re.compile(r"(?:街道|区|县|镇|乡)$")


@dataclass(frozen=True)
class Place:
    """A place a resident can name, with where it is (a station, or the middle of an area's stations)."""

    name: str
    lat: float
    lon: float


class Matcher:
    """Words to values; the earliest match in the text wins, at one position the longest word.

    One regular expression of a few hundred alternatives tries each of them at every position
    (milliseconds on a long message); indexing the words by first character tries only a few.
    """

    def __init__(self, words: dict[str, object]) -> None:
        self._values = {normalize(w): v for w, v in words.items() if normalize(w)}
        self._by_first: dict[str, list[str]] = {}
        for word in sorted(self._values, key=len, reverse=True):
            self._by_first.setdefault(word[0], []).append(word)

    def values(self) -> list[object]:
        return list(self._values.values())

    def find(self, text: str) -> object | None:
        by_first = self._by_first
        for i, char in enumerate(text):
            for word in by_first.get(char, ()):
                if text.startswith(word, i) and _whole(text, i, i + len(word)):
                    return self._values[word]
        return None


def _latin(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _whole(text: str, start: int, end: int) -> bool:
    """A Latin word matches whole ("hi" is not in "this"); Chinese has no word boundaries to respect."""
    if _latin(text[start]) and start > 0 and _latin(text[start - 1]):
        return False
    return not (_latin(text[end - 1]) and end < len(text) and _latin(text[end]))


class SlotFinder:
    def __init__(self, matchers: dict[str, Matcher], path: Path = SLOTS_FILE) -> None:
        self._matchers = matchers
        self.path = path

    def check(self, slot: str, known: set[str]) -> None:
        """Every value of `slot` names something that exists (a scale, a tip topic), or the load stops."""
        unknown = sorted(set(self._matchers[slot].values()) - known)
        if unknown:
            raise ContentError(self.path, 1, f"'{slot}' names {', '.join(unknown)}, which do not exist; "
                                             f"known: {', '.join(sorted(known))}")

    def find(self, intent: str, text: str) -> dict[str, object]:
        """The slots of `intent` found in `text` (already normalised); a slot not found is absent."""
        found = {}
        for slot in SLOTS_OF.get(intent, ()):
            value = self._matchers[slot].find(text)
            if value is not None:
                found[slot] = value
        return found


def load_slots(stations: StationMap, path: Path = SLOTS_FILE) -> SlotFinder:
    data = load_mapping(path)
    matchers: dict[str, Matcher] = {}
    for slot in sorted({s for slots in SLOTS_OF.values() for s in slots} - {"place"}):
        section = data.get(slot)
        if not isinstance(section, YamlMap):
            raise ContentError(path, 1, f"'{slot}' must map each value to a list of words")
        words: dict[str, object] = {}
        for value, listed in section.items():
            if not isinstance(listed, list) or not all(isinstance(w, str) for w in listed):
                raise section.error(f"'{slot}.{value}' must be a list of words", value)
            words.update((w, str(value)) for w in listed)
        matchers[slot] = Matcher(words)
    matchers["place"] = Matcher(place_names(stations))
    return SlotFinder(matchers, path)


def place_names(stations: StationMap) -> dict[str, Place]:
    """Every name a resident may use for a place we know: counties, townships (with and without
    their 区/县/街道/镇/乡 suffix), station names, roads and communities in station addresses."""
    names: dict[str, Place] = {}

    def add(name: str, place: Place, short: bool = False) -> None:
        for form in {name, _AREA_SUFFIX.sub("", name) if short else name}:
            if len(form) >= 2 and not form.isascii() or len(form) >= 4:
                names.setdefault(form, place)

    every = stations.stations()
    for station in every:
        here = Place(station.name.zh_hans, station.lat, station.lon)
        add(station.name.zh_hans, here)
        names.setdefault(station.name.en.lower(), here)
        add(_STATION_SUFFIX.sub("", station.name.zh_hans), here)  # 幸福社区
        road = _ROAD.search(_street_part(station.address, stations, station))
        if road:
            add(road.group(), Place(road.group(), station.lat, station.lon))
    for county in stations.counties():
        add_area(add, county.name.zh_hans, county.name.en, [s for s in every if s.county == county.id])
        for township in county.townships:
            add_area(add, township.name.zh_hans, township.name.en, [s for s in every if s.township == township.id])
    return names


def _street_part(address: str, stations: StationMap, station) -> str:
    """The address after its county and township: 清河区解放街道中山路88号 -> 中山路88号."""
    county = next(c for c in stations.counties() if c.id == station.county)
    for prefix in (county.name.zh_hans, *(t.name.zh_hans for t in county.townships)):
        if address.startswith(prefix):
            address = address[len(prefix):]
    return address


def add_area(add, zh: str, en: str, members: list) -> None:
    if not members:
        return
    place = Place(zh, sum(s.lat for s in members) / len(members), sum(s.lon for s in members) / len(members))
    add(zh, place, short=True)
    add(en.lower(), place)
    add(en.lower().rsplit(" ", 1)[0], place)  # "qinghe" for "Qinghe District"
