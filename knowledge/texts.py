"""Every resident-facing sentence, in one place: `knowledge/data/texts/*.yaml`.

File format (one file per flow, plus `common.yaml` for the global texts)::

    # keys in <flow>.yaml start with "<flow>." by convention; a key may exist in only one file
    assessment.intro:
      zh-Hans: 接下来有{count}道题……     # required; Simplified Chinese is the source text
      en: There are {count} questions…    # required
      zh-Hant: ……                          # optional; otherwise derived from zh-Hans with OpenCC s2t

Placeholders use `str.format` syntax (`{hotline}`; write `{{` for a literal brace) and must be the
same in every language, which the loader checks. `Texts.get(key, lang, **values)` fills them.
"""

from __future__ import annotations

import string
from pathlib import Path

from knowledge.content import (
    DATA_DIR, LANGUAGES, ContentError, LocalText, YamlMap, load_mapping, local_text_of, to_simplified,
)


class Texts:
    def __init__(self, entries: dict[str, LocalText]) -> None:
        self._entries = entries

    def keys(self) -> list[str]:
        return list(self._entries)

    def local(self, key: str) -> LocalText:
        """The text in all languages, for callers that pick the language later."""
        try:
            return self._entries[key]
        except KeyError:
            raise KeyError(f"no text {key!r} in knowledge/data/texts") from None

    def get(self, key: str, lang: str, **values: object) -> str:
        template = self.local(key).get(lang)
        try:
            return template.format_map(values)
        except KeyError as exc:
            raise KeyError(f"text {key!r} needs a value for {exc.args[0]!r}") from None


def load_texts(directory: Path | None = None) -> Texts:
    directory = directory or DATA_DIR / "texts"
    entries: dict[str, LocalText] = {}
    first_seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        data = load_mapping(path)
        for key, value in data.items():
            if key in entries:
                raise data.error(f"text {key!r} is already defined at {first_seen[key]}", key)
            if not isinstance(value, YamlMap):
                languages = ", ".join(LANGUAGES)
                raise data.error(f"text {key!r} must map languages to text ({languages})", key)
            entries[key] = local_text_of(value)
            _check_placeholders(value, key, entries[key])
            first_seen[key] = f"{path}:{data.key_lines[key]}"
    if not entries:
        raise ContentError(directory, 1, "no text files (*.yaml) found")
    return Texts(entries)


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _check_placeholders(value: YamlMap, key: str, text: LocalText) -> None:
    """Every language must ask for the same values, or one of them fails only in production."""
    written = {"zh-Hans": text.zh_hans, "en": text.en, "zh-Hant": text.zh_hant}
    try:
        found = {lang: _placeholders(t) for lang, t in written.items() if t is not None}
    except ValueError as exc:
        problem = f"text {key!r} has a broken placeholder ({exc}); write {{{{ for a brace"
        raise value.error(problem) from None
    if len({frozenset(fields) for fields in found.values()}) > 1:
        detail = "; ".join(f"{lang}: {sorted(fields)}" for lang, fields in found.items())
        raise value.error(f"text {key!r} uses different placeholders per language ({detail})")


def detect_language(text: str) -> str | None:
    """The language a resident wrote in, or None when the message has no letters (e.g. "1").

    Traditional Chinese is told from Simplified by characters that change when converted to
    Simplified; a message is English when its Latin letters clearly outnumber its Chinese characters.
    """
    chinese = [ch for ch in text if "\u3400" <= ch <= "\u9fff"]
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    if not chinese and not latin:
        return None
    if latin > 2 * len(chinese):
        return "en"
    joined = "".join(chinese)
    return "zh-Hant" if to_simplified(joined) != joined else "zh-Hans"
