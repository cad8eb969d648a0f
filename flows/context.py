"""What a flow sees during one turn: the services, the loaded knowledge, the turn and the language."""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.pipeline import Turn
from bot.services import Services
from bot.transcript import ResidentRef
from knowledge.content import to_simplified
from knowledge.library import Knowledge
from knowledge.texts import Texts

_EDGE_PUNCTUATION = re.compile(r"^[\s\W_]+|[\s\W_]+$")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """How typed words are compared: trimmed, lower case, Simplified, inner spaces collapsed."""
    text = _EDGE_PUNCTUATION.sub("", text.strip().lower())
    return to_simplified(_SPACES.sub(" ", text))


class Words:
    """Keyword lists from `knowledge/data/texts` (`a|b|c` in every language), matched whole."""

    def __init__(self, texts: Texts, keys: list[str]) -> None:
        self._by_word: dict[str, str] = {}
        for key in keys:
            local = texts.local(key)
            for lang in ("zh-Hans", "zh-Hant", "en"):
                for word in local.get(lang).split("|"):
                    self._by_word.setdefault(normalize(word), key)

    def match(self, text: str) -> str | None:
        return self._by_word.get(normalize(text))


@dataclass
class Ctx:
    services: Services
    turn: Turn
    lang: str
    welcome_covers: bool = False  # this turn's answer says nothing the welcome does not (first contact)

    @property
    def knowledge(self) -> Knowledge:
        return self.services.knowledge

    @property
    def ref(self) -> ResidentRef:
        return self.turn.resident

    @property
    def openid(self) -> str:
        return self.turn.inbound.openid

    def t(self, key: str, **values: object) -> str:
        return self.knowledge.texts.get(key, self.lang, **values)

    def menu(self) -> str:
        return self.t("menu")


def parse_number(text: str) -> int | None:
    """A reply like "2", "２" or "2." as a number; anything else is not a choice."""
    cleaned = _EDGE_PUNCTUATION.sub("", text.strip())
    cleaned = cleaned.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    return int(cleaned) if cleaned.isdigit() and len(cleaned) <= 3 else None


def numbered(lines: list[str], start: int = 1) -> str:
    return "\n".join(f"{number} {line}" for number, line in enumerate(lines, start))
