"""The rule engine: folds a message, reads each sentence against the lexicon, keeps the highest.

It explains itself (the reason names the rule and the words), which is why it stays beside the
learned model (`model.py`); `detector.py` combines the two.

Reading a sentence is four steps, all driven by the data files:
1. mask safe uses (紫砂壶, 累死了, "killing it", reassurances such as 不会想不开) so their words
   cannot match anything else;
2. find every term, by category;
3. the level is the highest of the terms' own levels and the rules whose categories are all
   present (a rule with context_min only counts when the conversation already reached that level);
4. caps (modifiers) lower it when the sentence is a report, a professional question, someone
   else's words, history or a joke, unless a category named in the cap's `unless` is present.

Context rule: `context_level` only ever adds rules (those with context_min), so a message read
with context is never lower than the same message read without it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import lexicon as lx
from .levels import Risk, RiskLevel
from .normalize import fold, sentences


@dataclass(frozen=True)
class _Reading:
    level: int
    matched: tuple[str, ...]
    reason: str


class RuleEngine:
    """Deterministic, explainable crisis reading of one message; build once with `load()`."""

    def __init__(self, lexicon: lx.Lexicon):
        self._lex = lexicon

    @classmethod
    def load(cls, directory: Path | str = lx.DATA_DIR) -> "RuleEngine":
        return cls(lx.load(Path(directory)))

    def scan(self, text: str, context_level: int = 0, parts: list[str] | None = None) -> Risk:
        """`parts`: the message's sentences when the caller has them (`sentences(fold(text))`)."""
        best: _Reading | None = None
        for sentence in sentences(fold(text or "")) if parts is None else parts:
            reading = self._read(sentence, int(context_level))
            if reading and (best is None or reading.level > best.level):
                best = reading
        if best is None:
            return Risk()
        return Risk(RiskLevel(best.level), best.matched, best.reason)

    def _hits(self, sentence: str) -> list[tuple[lx.Term, str]]:
        masked, end = [], -1
        for _, start, stop in sorted(self._lex.safe.find(sentence), key=lambda h: (h[1], -h[2])):
            if start >= end:
                masked.append((start, stop))
                end = stop
        for start, stop in masked:
            sentence = sentence[:start] + lx.MASK * (stop - start) + sentence[stop:]
        return [(term, sentence[start:stop]) for term, start, stop in self._lex.terms.find(sentence)]

    def _read(self, sentence: str, context_level: int) -> _Reading | None:
        hits = self._hits(sentence)
        if not hits:
            return None
        present = {term.category for term, _ in hits}
        level, reason, used = 0, "", set(present)
        for rule in self._lex.rules:
            if (rule.level > level and context_level >= rule.context_min and rule.all <= present
                    and (not rule.any or rule.any & present)):
                level, reason, used = rule.level, f"{rule.reason} ({rule.id})", rule.all | (rule.any & present)
        for term, _ in hits:
            if term.level > level:
                level, reason, used = term.level, f"{self._lex.labels[term.category]} ({term.id})", {term.category}
        if not reason:
            return None
        texts = list(dict.fromkeys(text for term, text in hits if term.category in used))
        matched = tuple(t for t in texts if not any(t != other and t in other for other in texts))
        reason = f"{reason}: {'、'.join(matched)}"
        for mod in self._lex.modifiers:
            if mod.cap < level and mod.when & present and not mod.unless & present:
                level, reason = mod.cap, f"{reason}; {mod.reason} ({mod.id}) → {mod.cap}"
        return _Reading(level, matched, reason)
