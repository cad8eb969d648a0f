"""A first-character index over the lexicon's patterns, so a scan costs microseconds.

Python's regex engine tries every alternative at every position of a big alternation; with a
thousand patterns that costs hundreds of µs per message. Nearly every position of a message
starts no pattern at all, so each pattern is filed under the characters it can begin with
(worked out from the parsed regex), and a scan only tries, at each position, one gate (all
patterns filed under that character) and, when it matches, the few per-category alternations.
Latin letters are tried only at the start of a word, where every Latin pattern begins.
Patterns whose first character cannot be known (a leading `.`) are tried everywhere; the
lexicon avoids them.
"""
from __future__ import annotations

import re
import re._constants as sre
import re._parser as sre_parse
from dataclasses import dataclass

_MAX_RANGE = 512


@dataclass(frozen=True)
class Term:
    id: str
    category: str
    level: int


@dataclass(frozen=True)
class _Entry:
    """One category's patterns that can start with one character, and their terms."""

    search: re.Pattern
    terms: tuple[tuple[re.Pattern, Term], ...]


def _first(items) -> tuple[set[str] | None, bool]:
    """Characters a parsed sequence can start with (None: any), and whether it can be empty."""
    chars: set[str] = set()
    for op, av in items:
        got, nullable = _first_item(op, av)
        if got is None:
            return None, False
        chars |= got
        if not nullable:
            return chars, False
    return chars, True


def _first_item(op, av) -> tuple[set[str] | None, bool]:
    if op is sre.LITERAL:
        return {chr(av)}, False
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return set(), True
    if op is sre.SUBPATTERN:
        return _first(av[3])
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        got, nullable = _first(av[2])
        return got, nullable or av[0] == 0
    if op is sre.BRANCH:
        chars, empty = set(), False
        for alt in av[1]:
            got, nullable = _first(alt)
            if got is None:
                return None, False
            chars |= got
            empty = empty or nullable
        return chars, empty
    if op is sre.IN:
        return _charset(av), False
    return None, False


def _charset(items) -> set[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is sre.LITERAL:
            chars.add(chr(av))
        elif op is sre.RANGE and av[1] - av[0] < _MAX_RANGE:
            chars.update(map(chr, range(av[0], av[1] + 1)))
        else:
            return None
    return chars


def first_chars(pattern: str) -> set[str] | None:
    chars, nullable = _first(sre_parse.parse(pattern).data)
    return None if chars is None or nullable else chars


class PatternIndex:
    """All terms' patterns, filed by first character; `find` returns every (term, start, end)."""

    def __init__(self, terms: list[tuple[Term, list[str]]]):
        compiled = {term: re.compile("|".join(patterns)) for term, patterns in terms}
        filed: dict[str | None, dict[str, list[tuple[Term, str]]]] = {}
        for term, patterns in terms:
            for pattern in patterns:
                for ch in first_chars(pattern) or [None]:
                    filed.setdefault(ch, {}).setdefault(term.category, []).append((term, pattern))
        anywhere = filed.pop(None, {})
        self._anywhere = tuple(self._entry(parts, compiled) for parts in anywhere.values())
        self._by_char = {ch: (self._gate(by_cat), tuple(self._entry(parts, compiled) for parts in by_cat.values()))
                         for ch, by_cat in filed.items()}

    @staticmethod
    def _gate(by_category: dict[str, list[tuple[Term, str]]]) -> re.Pattern:
        return re.compile("|".join(sorted({p for parts in by_category.values() for _, p in parts})))

    @staticmethod
    def _entry(parts: list[tuple[Term, str]], compiled: dict[Term, re.Pattern]) -> _Entry:
        alternation = "|".join(sorted({p for _, p in parts}, key=len, reverse=True))
        ranked = sorted(dict.fromkeys(t for t, _ in parts), key=lambda t: -t.level)
        return _Entry(re.compile(alternation), tuple((compiled[t], t) for t in ranked))

    def find(self, text: str) -> list[tuple[Term, int, int]]:
        hits: list[tuple[Term, int, int]] = []
        get = self._by_char.get
        previous = ""
        for i, ch in enumerate(text):
            mid_word = "a" <= ch <= "z" and "a" <= previous <= "z"
            previous = ch
            filed = None if mid_word else get(ch)
            if filed is not None and filed[0].match(text, i):
                self._try(filed[1], text, i, hits)
            if self._anywhere:
                self._try(self._anywhere, text, i, hits)
        return hits

    @staticmethod
    def _try(entries: tuple[_Entry, ...], text: str, i: int, hits: list) -> None:
        for entry in entries:
            m = entry.search.match(text, i)
            if m:
                term = next((t for rx, t in entry.terms if rx.match(text, i)), entry.terms[0][1])
                hits.append((term, i, m.end()))
