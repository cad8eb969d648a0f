"""Screening scales as data, and the one scorer that reads them.

Each `knowledge/data/scales/*.yaml` file is one scale (adding a file adds a scale). The scoring rules
in /work/shared/SCALES.md are expressed in the files: option values, `reverse: true` items
(score = lowest + highest - answer), contiguous bands over the total, threshold flags, and a marked
safety item whose any-positive score raises its flag whatever the total.
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from knowledge.content import (
    DATA_DIR, ContentError, LocalText, YamlMap, allow_only, load_mapping, local_text, local_text_of,
    mappings_of, optional, require,
)

SCALE_KEYS = frozenset({
    "id", "name", "about", "instructions", "source", "options", "items", "safety_item", "flags",
    "bands", "alt_bands", "percent_factor",
})


@dataclass(frozen=True)
class Option:
    value: int
    text: LocalText


@dataclass(frozen=True)
class Item:
    number: int
    text: LocalText
    options: tuple[Option, ...]
    reverse: bool

    def score(self, answer: int) -> int:
        low, high = min(o.value for o in self.options), max(o.value for o in self.options)
        return low + high - answer if self.reverse else answer


@dataclass(frozen=True)
class Band:
    """A score range with what it means, what it does not mean, and what to do next."""

    id: str
    low: int
    high: int
    label: LocalText
    meaning: LocalText
    not_meaning: LocalText
    next_step: LocalText
    offers: str | None  # id of a fuller scale to take next (PHQ-2 positive -> PHQ-9)


@dataclass(frozen=True)
class AltBand:
    """A second published reading of the same total (K10's clinical bands)."""

    id: str
    low: int
    high: int
    label: LocalText


@dataclass(frozen=True)
class ThresholdFlag:
    name: str
    total_at_least: int | None
    total_at_most: int | None

    def raised_by(self, total: int) -> bool:
        if self.total_at_least is not None:
            return total >= self.total_at_least
        return total <= self.total_at_most


@dataclass(frozen=True)
class SafetyItem:
    """The item (1-based) that must be acted on whenever it scores above 0, and its flag name."""

    item: int
    flag: str


@dataclass(frozen=True)
class ScoreResult:
    scale: str
    total: int
    band: str
    flags: tuple[str, ...]
    safety_positive: bool
    percent: int | None = None
    band_alt: str | None = None
    offers: str | None = None

    def as_dict(self) -> dict:
        return asdict(self) | {"flags": list(self.flags)}


@dataclass(frozen=True)
class Scale:
    id: str
    name: LocalText
    about: LocalText
    instructions: LocalText
    source: str
    items: tuple[Item, ...]
    safety_item: SafetyItem | None
    flags: tuple[ThresholdFlag, ...]
    bands: tuple[Band, ...]
    alt_bands: tuple[AltBand, ...]
    percent_factor: int | None

    @property
    def answer_range(self) -> tuple[int, int]:
        values = [o.value for o in self.items[0].options]
        return min(values), max(values)

    @property
    def total_range(self) -> tuple[int, int]:
        low, high = self.answer_range
        return low * len(self.items), high * len(self.items)

    def band(self, band_id: str) -> Band:
        """The band named in a ScoreResult, for its meaning and next step in the resident's language."""
        for band in self.bands:
            if band.id == band_id:
                return band
        raise ValueError(f"{self.id} has no band {band_id!r}")

    def score(self, answers: list[int]) -> ScoreResult:
        self._check_answers(answers)
        total = sum(item.score(answer) for item, answer in zip(self.items, answers))
        band = next(b for b in self.bands if b.low <= total <= b.high)
        flags = [f.name for f in self.flags if f.raised_by(total)]
        safety_positive = False
        if self.safety_item:
            item = self.items[self.safety_item.item - 1]
            safety_positive = item.score(answers[item.number - 1]) > 0
            if safety_positive:
                flags.insert(0, self.safety_item.flag)
        return ScoreResult(
            scale=self.id, total=total, band=band.id, flags=tuple(flags),
            safety_positive=safety_positive,
            percent=total * self.percent_factor if self.percent_factor else None,
            band_alt=next((b.id for b in self.alt_bands if b.low <= total <= b.high), None),
            offers=band.offers,
        )

    def _check_answers(self, answers: list[int]) -> None:
        if len(answers) != len(self.items):
            raise ValueError(f"{self.id} needs {len(self.items)} answers, got {len(answers)}")
        low, high = self.answer_range
        for number, answer in enumerate(answers, start=1):
            if isinstance(answer, bool) or not isinstance(answer, int) or not low <= answer <= high:
                raise ValueError(f"{self.id} answer {number} is {answer!r}; answers run {low}-{high}")


def normalize_id(scale_id: str) -> str:
    """`PHQ-9`, `phq9` and `Phq 9` all name the same scale."""
    return re.sub(r"[^0-9a-z]", "", scale_id.lower())


class ScaleLibrary:
    """All loaded scales, looked up by id in any case and with or without the dash."""

    def __init__(self, scales: list[Scale]) -> None:
        self._scales = {normalize_id(s.id): s for s in scales}

    def ids(self) -> list[str]:
        return [s.id for s in self._scales.values()]

    def get(self, scale_id: str) -> Scale:
        try:
            return self._scales[normalize_id(scale_id)]
        except KeyError:
            raise ValueError(f"unknown scale {scale_id!r}; known: {', '.join(self.ids())}") from None

    def score(self, scale_id: str, answers: list[int]) -> ScoreResult:
        return self.get(scale_id).score(answers)


def load_scales(directory: Path | None = None) -> ScaleLibrary:
    directory = directory or DATA_DIR / "scales"
    scales: dict[str, tuple[Scale, YamlMap]] = {}
    for path in sorted(directory.glob("*.yaml")):
        data = load_mapping(path)
        scale = _parse_scale(data)
        if normalize_id(scale.id) in scales:
            raise data.error(f"scale id {scale.id!r} is already used by another file", "id")
        scales[normalize_id(scale.id)] = (scale, data)
    if not scales:
        raise ContentError(directory, 1, "no scale files (*.yaml) found")
    for scale, data in scales.values():
        for band in scale.bands:
            if band.offers and normalize_id(band.offers) not in scales:
                raise data.error(f"band {band.id!r} offers unknown scale {band.offers!r}", "bands")
    return ScaleLibrary([scale for scale, _ in scales.values()])


@functools.cache
def default_scales() -> ScaleLibrary:
    """The packaged scales, loaded once per process (they never change while it runs)."""
    return load_scales()


def score(scale_id: str, answers: list[int]) -> ScoreResult:
    """Score answers against a packaged scale; ValueError says what is wrong with the input."""
    return default_scales().score(scale_id, answers)


def _parse_scale(data: YamlMap) -> Scale:
    allow_only(data, SCALE_KEYS)
    if "safety_item" not in data:
        raise data.error("missing required key 'safety_item' (write `safety_item: null` if none)")
    default_options = _parse_options(data, "options") if "options" in data else None
    items = tuple(_parse_item(number, raw, default_options)
                  for number, raw in enumerate(mappings_of(data, "items"), start=1))
    if len({(min(o.value for o in i.options), max(o.value for o in i.options)) for i in items}) != 1:
        raise data.error("all items must share the same answer values", "items")
    percent_factor = optional(data, "percent_factor", int)
    scale = Scale(
        id=require(data, "id", str), name=local_text(data, "name"), about=local_text(data, "about"),
        instructions=local_text(data, "instructions"), source=require(data, "source", str),
        items=items, safety_item=_parse_safety_item(data, len(items)),
        flags=tuple(_parse_flag(raw) for raw in mappings_of(data, "flags", required=False)),
        bands=tuple(_parse_band(raw) for raw in mappings_of(data, "bands")),
        alt_bands=tuple(_parse_alt_band(raw) for raw in mappings_of(data, "alt_bands", required=False)),
        percent_factor=percent_factor,
    )
    _check_coverage(data, "bands", scale.bands, scale.total_range)
    if scale.alt_bands:
        _check_coverage(data, "alt_bands", scale.alt_bands, scale.total_range)
    return scale


def _parse_options(owner: YamlMap, key: str) -> tuple[Option, ...]:
    options = tuple(
        Option(value=require(raw, "value", int), text=local_text_of(raw, frozenset({"value"})))
        for raw in mappings_of(owner, key)
    )
    values = sorted(o.value for o in options)
    if values != list(range(values[0], values[0] + len(values))):
        raise owner.error(f"option values must be consecutive whole numbers, got {values}", key)
    return options


def _parse_item(number: int, raw: YamlMap, default_options: tuple[Option, ...] | None) -> Item:
    allow_only(raw, frozenset({"text", "reverse", "options"}))
    options = _parse_options(raw, "options") if "options" in raw else default_options
    if options is None:
        raise raw.error(f"item {number} has no options and the scale has no default 'options'")
    return Item(number=number, text=local_text(raw, "text"), options=options,
                reverse=optional(raw, "reverse", bool, False))


def _parse_safety_item(data: YamlMap, item_count: int) -> SafetyItem | None:
    raw = optional(data, "safety_item", YamlMap)
    if raw is None:
        return None
    allow_only(raw, frozenset({"item", "flag"}))
    safety = SafetyItem(item=require(raw, "item", int), flag=require(raw, "flag", str))
    if not 1 <= safety.item <= item_count:
        raise raw.error(f"safety item {safety.item} is not between 1 and {item_count}", "item")
    return safety


def _parse_flag(raw: YamlMap) -> ThresholdFlag:
    allow_only(raw, frozenset({"name", "total_at_least", "total_at_most"}))
    flag = ThresholdFlag(name=require(raw, "name", str),
                         total_at_least=optional(raw, "total_at_least", int),
                         total_at_most=optional(raw, "total_at_most", int))
    if (flag.total_at_least is None) == (flag.total_at_most is None):
        raise raw.error("a flag needs exactly one of 'total_at_least' or 'total_at_most'")
    return flag


def _parse_band(raw: YamlMap) -> Band:
    allow_only(raw, frozenset({"id", "from", "to", "label", "meaning", "not_meaning", "next_step",
                               "offers"}))
    return Band(id=require(raw, "id", str), low=require(raw, "from", int), high=require(raw, "to", int),
                label=local_text(raw, "label"), meaning=local_text(raw, "meaning"),
                not_meaning=local_text(raw, "not_meaning"), next_step=local_text(raw, "next_step"),
                offers=optional(raw, "offers", str))


def _parse_alt_band(raw: YamlMap) -> AltBand:
    allow_only(raw, frozenset({"id", "from", "to", "label"}))
    return AltBand(id=require(raw, "id", str), low=require(raw, "from", int),
                   high=require(raw, "to", int), label=local_text(raw, "label"))


def _check_coverage(data: YamlMap, key: str, bands: tuple[Band | AltBand, ...],
                    total_range: tuple[int, int]) -> None:
    """Bands must tile the possible totals exactly, so every total lands in one band."""
    expected_low, high = total_range
    for band in bands:
        if band.low != expected_low or band.high < band.low:
            raise data.error(f"{key}: band {band.id!r} should start at {expected_low} "
                             f"(bands run in order, without gaps or overlaps)", key)
        expected_low = band.high + 1
    if expected_low != high + 1:
        raise data.error(f"{key}: the last band should end at {high}, the highest possible total", key)
