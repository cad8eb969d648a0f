"""Text normalisation: make the many ways people write a word look like one.

Evasion (spaces, dots, zero-width characters, full-width forms, leetspeak) and script (Traditional
or Simplified) must not change what the lexicon sees, so every message and every lexicon pattern
goes through the same folding. Traditional-to-Simplified uses a per-character table built once
from OpenCC's own dictionary: calling OpenCC per message costs about 100 µs, the table a few µs.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u034f"
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
# Separators that evasion puts between characters; strong terminators are kept for splitting,
# and so are quotes and title marks, which tell reported speech and titles (《…》) apart.
_SEP = r"\s\-_.*·•~`',，、:：/\\|+=#^()（）\[\]【】{}<>‘’…—"
_TERMINATORS = re.compile(r"[。！？!?；;\n]+|\.{3,}|…+|\.(?=\s|$)|(?<=[^a-z0-9\s])\.")
_CJK_GAP = re.compile(rf"(?<=[{_CJK}0-9])[{_SEP}]+(?=[{_CJK}0-9])")
_SPELLED_OUT = re.compile(r"(?<![a-z])[a-z](?:[ .*_\-]+[a-z](?![a-z])){2,}")
_WORD_GAP = re.compile(r"(?<=[a-z])[.*_\-]+(?=[a-z])")
_LEET_TOKEN = re.compile(r"[a-z0-9@$]*[a-z][a-z0-9@$]*")
_LEET = str.maketrans("013457@$", "oieastas")
_PIPE_I = re.compile(r"(?<=[a-z])[!|](?=[a-z])")
_SPACES = re.compile(r"\s+")
# OpenCC leaves 著 alone (it is also the Simplified 著 of 著名); in chat it is nearly always the
# Traditional 着 of 活著, 睡著, 想著, which the lexicon must see.
_EXTRA_FOLDS = {"著": "着"}
_SHORT_PIECE = 2


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str | None]:
    """Zero-width characters removed, Traditional characters mapped to their Simplified form."""
    table: dict[int, str | None] = dict.fromkeys(map(ord, _ZERO_WIDTH))
    table.update({ord(k): v for k, v in _EXTRA_FOLDS.items()})
    source = resources.files("opencc") / "dictionary" / "TSCharacters.txt"
    for line in source.read_text(encoding="utf-8").splitlines():
        trad, _, simps = line.partition("\t")
        simp = simps.split(" ")[0] if simps else ""
        if len(trad) == 1 and len(simp) == 1 and trad != simp:
            table[ord(trad)] = simp
    return table


def to_simplified(text: str) -> str:
    """Fold script only; used on lexicon patterns, where regex syntax must survive untouched."""
    return unicodedata.normalize("NFKC", text).translate(_fold_table())


def _unleet(match: re.Match) -> str:
    token = match.group()
    return token.translate(_LEET) if not token.isalpha() else token


def fold(text: str) -> str:
    """Width, script, case and leetspeak folded; separators still in place for splitting."""
    text = unicodedata.normalize("NFKC", text).translate(_fold_table()).lower()
    text = _PIPE_I.sub("i", text)
    return _LEET_TOKEN.sub(_unleet, text)


def collapse(sentence: str) -> str:
    """Remove separators put between characters: 自 杀, 自.杀, s.u.i.c.i.d.e, k i l l."""
    sentence = _CJK_GAP.sub("", sentence)
    sentence = _SPELLED_OUT.sub(lambda m: re.sub(r"[ .*_\-]", "", m.group()), sentence)
    sentence = _WORD_GAP.sub("", sentence)
    return _SPACES.sub(" ", sentence).strip()


def sentences(text: str) -> list[str]:
    """Split a folded message into sentences, each collapsed.

    Pieces of one or two characters are joined to their neighbour, so a word split by full stops
    (自。杀) is read whole while real sentences stay apart and are scored separately.
    """
    pieces = [p.strip() for p in _TERMINATORS.split(text)]
    merged: list[str] = []
    pending = ""
    for piece in pieces:
        if not piece:
            continue
        if len(piece) <= _SHORT_PIECE or (merged and len(merged[-1]) <= _SHORT_PIECE):
            if merged:
                merged[-1] += piece
            else:
                pending += piece
            continue
        merged.append(pending + piece)
        pending = ""
    if pending:
        merged.append(pending)
    return [collapse(s) for s in merged]


def normalize(text: str) -> str:
    """The whole message folded and collapsed, as the lexicon sees it (for tools and tests)."""
    return " ".join(sentences(fold(text)))
