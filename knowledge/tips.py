"""Self-help tips: one YAML file per topic in `knowledge/data/tips/`, and search over them.

File format::

    topic: sleep                      # id used by flows and campaigns
    name: {zh-Hans: 睡眠, en: Sleep}
    tips:
      - id: sleep-fixed-wake-time     # unique across all files
        tags: [作息, routine]
        audiences: [general, students]    # see AUDIENCES
        title: {zh-Hans: ..., en: ...}
        body: {zh-Hans: ..., en: ...}     # zh-Hans 80-250 characters: one phone screen
        url: https://...                  # optional: the longer article

Residents type questions without spaces ("睡不着怎么办"), so Chinese is matched by character bigrams
(single characters count a little); English by words. Terms found in many tips count for less
(idf), and question words are dropped, so "怎么办" does not outrank "睡不着".
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from knowledge.content import (
    AUDIENCES, DATA_DIR, ContentError, LocalText, YamlMap, allow_only, load_mapping, local_text,
    mappings_of, optional, require, to_simplified,
)

BODY_LENGTH = range(80, 251)
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[a-z0-9]+")
_QUESTION_WORDS = re.compile(r"怎么办|怎么样|怎么|怎样|如何|为什么|什么|吗|呢|啊|吧")  # say nothing of topic
_FIELD_WEIGHTS = {"title": 3, "tags": 3, "topic": 2, "body": 1}


@dataclass(frozen=True)
class Topic:
    id: str
    name: LocalText


@dataclass(frozen=True)
class Tip:
    id: str
    topic: str
    tags: tuple[str, ...]
    audiences: tuple[str, ...]
    title: LocalText
    body: LocalText
    url: str | None = None


def _stem(word: str) -> str:
    if word.endswith("ing") and len(word) > 5:
        return word[:-3]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def search_terms(text: str) -> set[str]:
    """Chinese bigrams and single characters, and stemmed English words."""
    text = text.lower()
    terms = {_stem(word) for word in _WORD.findall(text)}
    for run in _CJK_RUN.findall(text):
        terms.update(run[i:i + 2] for i in range(len(run) - 1))
        terms.update(run)
    return terms


def _term_weight(term: str) -> float:
    """A single Chinese character is weak evidence next to a bigram ("睡" vs "睡不")."""
    return 0.25 if len(term) == 1 and _CJK_RUN.match(term) else 1.0


class TipLibrary:
    def __init__(self, topics: list[Topic], tips: list[Tip]) -> None:
        self._topics = {t.id: t for t in topics}
        self._tips = {t.id: t for t in tips}
        self._index = {lang: self._build_index(lang) for lang in ("zh-Hans", "en")}

    def topics(self) -> list[Topic]:
        return list(self._topics.values())

    def by_topic(self, topic: str) -> list[Tip]:
        if topic not in self._topics:
            raise ValueError(f"unknown tip topic {topic!r}; known: {', '.join(self._topics)}")
        return [tip for tip in self._tips.values() if tip.topic == topic]

    def for_audience(self, audience: str) -> list[Tip]:
        """Tips written for one audience, for campaigns aimed at that group."""
        if audience not in AUDIENCES:
            raise ValueError(f"unknown audience {audience!r}; known: {', '.join(sorted(AUDIENCES))}")
        return [tip for tip in self._tips.values() if audience in tip.audiences]

    def get(self, tip_id: str) -> Tip:
        return self._tips[tip_id]

    def search(self, query: str, lang: str, limit: int = 5) -> list[Tip]:
        """Best-matching tips first; empty when nothing in the query occurs in any tip."""
        index_lang = "en" if lang == "en" else "zh-Hans"
        if lang == "zh-Hant":
            query = to_simplified(query)
        query = _QUESTION_WORDS.sub(" ", query)
        weights_by_tip, document_frequency = self._index[index_lang]
        total_tips = len(weights_by_tip)
        scores: Counter[str] = Counter()
        for term in search_terms(query):
            if term not in document_frequency:
                continue
            idf = math.log(1 + total_tips / document_frequency[term]) * _term_weight(term)
            for tip_id, weights in weights_by_tip.items():
                if term in weights:
                    scores[tip_id] += idf * weights[term]
        ranked = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
        return [self._tips[tip_id] for tip_id, _ in ranked[:limit]]

    def _build_index(self, lang: str) -> tuple[dict[str, Counter[str]], Counter[str]]:
        weights_by_tip: dict[str, Counter[str]] = {}
        document_frequency: Counter[str] = Counter()
        for tip in self._tips.values():
            fields = {"title": tip.title.get(lang), "body": tip.body.get(lang),
                      "tags": " ".join(tip.tags), "topic": self._topics[tip.topic].name.get(lang)}
            weights: Counter[str] = Counter()
            for field, text in fields.items():
                for term in search_terms(text):
                    weights[term] += _FIELD_WEIGHTS[field]
            weights_by_tip[tip.id] = weights
            document_frequency.update(weights.keys())
        return weights_by_tip, document_frequency


def load_tips(directory: Path | None = None) -> TipLibrary:
    directory = directory or DATA_DIR / "tips"
    topics: list[Topic] = []
    tips: dict[str, Tip] = {}
    for path in sorted(directory.glob("*.yaml")):
        data = load_mapping(path)
        allow_only(data, frozenset({"topic", "name", "tips"}))
        topic = Topic(id=require(data, "topic", str), name=local_text(data, "name"))
        if any(known.id == topic.id for known in topics):
            raise data.error(f"topic {topic.id!r} is already defined by another file", "topic")
        topics.append(topic)
        for raw in mappings_of(data, "tips"):
            tip = _parse_tip(raw, topic.id)
            if tip.id in tips:
                raise raw.error(f"tip id {tip.id!r} is used twice", "id")
            tips[tip.id] = tip
    if not tips:
        raise ContentError(directory, 1, "no tip files (*.yaml) found")
    return TipLibrary(topics, list(tips.values()))


def _parse_tip(raw: YamlMap, topic: str) -> Tip:
    allow_only(raw, frozenset({"id", "tags", "audiences", "title", "body", "url"}))
    tags = tuple(str(tag) for tag in require(raw, "tags", list))
    audiences = tuple(require(raw, "audiences", list))
    for audience in audiences:
        if audience not in AUDIENCES:
            expected = ", ".join(sorted(AUDIENCES))
            raise raw.error(f"unknown audience {audience!r}; expected one of {expected}", "audiences")
    body = local_text(raw, "body")
    length = len(re.sub(r"\s", "", body.zh_hans))
    if length not in BODY_LENGTH:
        raise raw.error(f"zh-Hans body is {length} characters; keep it between "
                        f"{BODY_LENGTH.start} and {BODY_LENGTH.stop - 1}", "body")
    return Tip(id=require(raw, "id", str), topic=topic, tags=tags, audiences=audiences,
               title=local_text(raw, "title"), body=body, url=optional(raw, "url", str))
