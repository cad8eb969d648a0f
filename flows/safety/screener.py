"""The C-SSRS screener as data (`knowledge/data/safety/cssrs.yaml`): questions, their levels, the answers.

Loaded and checked once at start, so a mistake in the file stops the service with its line, not
a resident's safety check.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from knowledge.content import (
    DATA_DIR, LocalText, YamlList, YamlMap, allow_only, load_mapping, local_text_of, optional, require, to_simplified,
)

SCREENER_FILE = DATA_DIR / "safety" / "cssrs.yaml"
ANSWER_KINDS = ("unsure", "yes", "no")  # the order they are read in
QUESTION_KEYS = frozenset({"id", "level_if_yes", "ask_if"})
PREFIX_MAX = 8  # a longer reply that merely starts with 是/不 is not taken as an answer
_EDGE = re.compile(r"^[\s\W_]+|[\s\W_]+$")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Question:
    id: str
    level_if_yes: int
    text: LocalText
    ask_if: str | None = None


@dataclass(frozen=True)
class Screener:
    questions: tuple[Question, ...]
    answers: dict[str, str]  # normalised word -> yes / no / unsure

    @property
    def first(self) -> Question:
        return self.questions[0]

    def get(self, question_id: str) -> Question:
        return next(q for q in self.questions if q.id == question_id)

    def next_after(self, question: Question, answer: str) -> Question | None:
        """The next question to ask; a gated run follows its gate only after a yes to it."""
        start = self.questions.index(question) + 1
        for candidate in self.questions[start:]:
            gate = candidate.ask_if
            if gate is None or (gate == question.id and answer == "yes") or (gate and gate == question.ask_if):
                return candidate
        return None

    def read(self, text: str) -> str | None:
        """yes / no / unsure for a reply, or None when it is not an answer."""
        cleaned = normalise(text)
        if cleaned in self.answers:
            return self.answers[cleaned]
        if len(cleaned) > PREFIX_MAX:
            return None
        for word in sorted(self.answers, key=len, reverse=True):
            if not word.isascii() and cleaned.startswith(word):
                return self.answers[word]
        return None


def normalise(text: str) -> str:
    return to_simplified(_SPACES.sub(" ", _EDGE.sub("", text.strip().lower())))


def _questions(data: YamlMap) -> tuple[Question, ...]:
    items = require(data, "questions", YamlList)
    questions: list[Question] = []
    for item in items:
        if not isinstance(item, YamlMap):
            raise data.error("each question must be a mapping", "questions")
        level = require(item, "level_if_yes", int)
        if not 0 <= level <= 4:
            raise item.error("level_if_yes must be 0-4", "level_if_yes")
        gate = optional(item, "ask_if", str)
        known = [q.id for q in questions]
        if gate is not None and gate not in known:
            raise item.error(f"ask_if {gate!r} must name an earlier question", "ask_if")
        if gate is not None and known[-1] != gate and questions[-1].ask_if != gate:
            raise item.error(f"questions asked only after {gate!r} must follow it directly", "ask_if")
        text = local_text_of(item, extra_keys=QUESTION_KEYS)
        questions.append(Question(require(item, "id", str), level, text, gate))
    if not questions:
        raise data.error("the screener needs at least one question", "questions")
    return tuple(questions)


def _answers(data: YamlMap) -> dict[str, str]:
    answers = require(data, "answers", YamlMap)
    allow_only(answers, set(ANSWER_KINDS))
    words: dict[str, str] = {}
    for kind in ANSWER_KINDS:
        for word in require(answers, kind, YamlList):
            key = normalise(str(word))
            if key in words and words[key] != kind:
                raise answers.error(f"{word!r} is both {words[key]!r} and {kind!r}", kind)
            words[key] = kind
    return words


def load_screener(path: Path = SCREENER_FILE) -> Screener:
    data = load_mapping(path)
    allow_only(data, {"answers", "questions"})
    return Screener(_questions(data), _answers(data))


@functools.cache
def screener() -> Screener:
    """The screener, read once per process (web.py loads it at start, off the event loop)."""
    return load_screener()
