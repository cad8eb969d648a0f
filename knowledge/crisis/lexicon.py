"""The crisis lexicon: terms, rules and caps read from YAML, validated, compiled once.

Everything the detector knows is data in knowledge/data/crisis/*.yaml, so adding a word is a data
change reviewed by counsellors, not a code change. A mistake in a file must stop the service at
start with the file and line, never surface as a silent miss at 3 a.m.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.content import DataFileError

from .index import PatternIndex, Term
from .normalize import to_simplified

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "crisis"
SAFE = "safe"
MASK = "#"
_LATIN_LANGS = {"en", "pinyin"}
_LANGS = {"zh", "yue", "en", "pinyin", "mixed"}
_TOP_KEYS = {"categories", "terms", "rules", "modifiers"}
_FIELDS = {
    "categories": ({"name", "label"}, {"note"}),
    "terms": ({"id", "category", "level", "lang", "patterns"}, {"note"}),
    "rules": ({"id", "all", "level", "reason"}, {"any", "context_min", "note"}),
    "modifiers": ({"id", "when", "cap", "reason"}, {"unless", "note"}),
}


class LexiconError(DataFileError, ValueError):
    """A lexicon file is wrong; the message names the file and line to fix."""


@dataclass(frozen=True)
class Rule:
    id: str
    all: frozenset[str]
    any: frozenset[str]
    level: int
    context_min: int
    reason: str


@dataclass(frozen=True)
class Modifier:
    id: str
    when: frozenset[str]
    unless: frozenset[str]
    cap: int
    reason: str


@dataclass(frozen=True)
class Lexicon:
    labels: dict[str, str]
    safe: PatternIndex
    terms: PatternIndex
    rules: tuple[Rule, ...]
    modifiers: tuple[Modifier, ...]


class _LineLoader(yaml.SafeLoader):
    """Safe loader that remembers the line of every mapping, for error messages."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def _fail(where: str, message: str) -> LexiconError:
    return LexiconError(f"{where}: {message}")


def _read(path: Path) -> dict:
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else "?"
        raise _fail(f"{path}:{line}", f"not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise _fail(f"{path}:1", "expected a mapping with keys " + ", ".join(sorted(_TOP_KEYS)))
    unknown = set(doc) - _TOP_KEYS - {"__line__"}
    if unknown:
        raise _fail(f"{path}:{doc['__line__']}", f"unknown sections {sorted(unknown)}")
    return doc


def _entries(path: Path, doc: dict, section: str) -> list[tuple[str, dict]]:
    """Each entry of a section with its 'file:line', checked for required and unknown fields."""
    required, optional = _FIELDS[section]
    items = doc.get(section) or []
    if not isinstance(items, list):
        raise _fail(f"{path}:{doc['__line__']}", f"'{section}' must be a list")
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise _fail(f"{path}", f"every entry of '{section}' must be a mapping, got {item!r}")
        where = f"{path}:{item['__line__']}"
        fields = set(item) - {"__line__"}
        if required - fields:
            raise _fail(where, f"{section} entry lacks {sorted(required - fields)}")
        if fields - required - optional:
            raise _fail(where, f"{section} entry has unknown fields {sorted(fields - required - optional)}")
        out.append((where, item))
    return out


def _level(where: str, value, name: str = "level") -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 4:
        raise _fail(where, f"'{name}' must be an integer 0-4, got {value!r}")
    return value


def _categories(where: str, names, labels: dict[str, str], field: str) -> frozenset[str]:
    names = [names] if isinstance(names, str) else names or []
    for name in names:
        if name not in labels:
            raise _fail(where, f"'{field}' names unknown category {name!r}")
    return frozenset(names)


def _pattern(where: str, term_id: str, lang: str, raw) -> str:
    if not isinstance(raw, str) or not raw:
        raise _fail(where, f"term {term_id!r}: patterns must be non-empty strings, got {raw!r}")
    pattern = to_simplified(raw)
    if lang in _LATIN_LANGS:
        pattern = _bounded(pattern)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise _fail(where, f"term {term_id!r}: pattern {raw!r} is not a valid regex: {exc}") from exc
    return pattern


def _bounded(pattern: str) -> str:
    """Latin words must not match inside longer words (kms in kmsq); CJK has no such edges."""
    return rf"(?<![a-z])(?:{pattern})(?![a-z])"


def load(directory: Path = DATA_DIR) -> Lexicon:
    """Read and compile every *.yaml in the directory (sorted, so the result is reproducible)."""
    docs = [(path, _read(path)) for path in sorted(Path(directory).glob("*.yaml"))]
    if not docs:
        raise LexiconError(f"{directory}: no lexicon files (*.yaml) found")
    labels = {SAFE: "安全用法"}
    for path, doc in docs:
        for where, item in _entries(path, doc, "categories"):
            labels[item["name"]] = item["label"]
    terms: list[tuple[Term, list[str]]] = []
    seen: set[str] = set()
    for path, doc in docs:
        for where, item in _entries(path, doc, "terms"):
            term_id = item["id"]
            if term_id in seen:
                raise _fail(where, f"term id {term_id!r} is used twice")
            seen.add(term_id)
            category = next(iter(_categories(where, item["category"], labels, "category")))
            if item["lang"] not in _LANGS:
                raise _fail(where, f"'lang' must be one of {sorted(_LANGS)}, got {item['lang']!r}")
            raw = item["patterns"] if isinstance(item["patterns"], list) else [item["patterns"]]
            patterns = [_pattern(where, term_id, item["lang"], p) for p in raw]
            terms.append((Term(term_id, category, _level(where, item["level"])), patterns))
    rules, modifiers = [], []
    for path, doc in docs:
        for where, item in _entries(path, doc, "rules"):
            rules.append(Rule(
                item["id"], _categories(where, item["all"], labels, "all"),
                _categories(where, item.get("any"), labels, "any"), _level(where, item["level"]),
                _level(where, item.get("context_min", 0), "context_min"), str(item["reason"])))
        for where, item in _entries(path, doc, "modifiers"):
            modifiers.append(Modifier(
                item["id"], _categories(where, item["when"], labels, "when"),
                _categories(where, item.get("unless"), labels, "unless"),
                _level(where, item["cap"], "cap"), str(item["reason"])))
    safe = PatternIndex([(t, ps) for t, ps in terms if t.category == SAFE])
    other = PatternIndex([(t, ps) for t, ps in terms if t.category != SAFE])
    return Lexicon(labels, safe, other, tuple(rules), tuple(modifiers))
