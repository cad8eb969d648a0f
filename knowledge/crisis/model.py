"""The learned reading: a character n-gram model trained on a corpus written by many authors.

Rules fit the wording they were written from; the model carries what many independent authors wrote
to wording none of them used. It gives the probability that a message is at level >= 2, >= 3 and
>= 4; thresholds chosen on batches held back from training turn those into a level, and a band just
below the level-2 threshold is "uncertain": there the bot asks rather than guesses.

A long message (more than LONG sentences) is read whole and in windows of two sentences, keeping
the highest risk, so one risky sentence among many ordinary ones is not averaged away; shorter ones
are read whole (windows there raised false alarms more than recall, measured across authors). The
work is bounded by a character budget, so a huge message costs no more than a long one.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.ngram_model import ModelFileError, NgramModel

from .normalize import fold, sentences

MODEL_DIR = Path(__file__).resolve().parent.parent / "data" / "crisis" / "model"
WEIGHTS, CALIBRATION = "weights.npz", "calibration.json"
WINDOW = 2  # sentences per window
START, END = "\x02", "\x03"  # mark a piece's edges, so "the whole message is just 好了" is a feature
LONG = 4  # sentences; a message with more is also read in windows
BUDGET = 4000  # characters read in windows, beyond the whole message's first max_chars
CACHED = 4096  # readings kept for messages read again (a resident's recent ones)


def marked(text: str) -> str:
    return f"{START}{text}{END}"


@dataclass(frozen=True)
class Calibration:
    """P(>=2) at or above `at_least[2]` is a crisis; a crisis whose P(>=k) reaches `at_least[k]` reads
    as level k (3 or 4); P(>=2) in [ask, at_least[2]) asks.

    The level-3 threshold is not held at or above the alarm threshold: that left severe messages
    the model had already flagged as crises read as level 2. Measured out of author on six of the
    nineteen earlier authors: recall at level >= 3 0.966 -> 0.971, false alarms unchanged, level-2
    messages read as 3 (a priority handoff for passive ideation) 3.4% -> 6.0%."""

    at_least: dict[int, float]
    ask: float

    def level(self, p: np.ndarray) -> int:
        """The level of P(>=2, >=3, >=4)."""
        if p[0] < self.at_least[2]:
            return 0
        return max(k for k in (2, 3, 4) if k == 2 or p[k - 2] >= self.at_least[k])

    def read(self, p: np.ndarray) -> tuple[int, bool]:
        """(level, ask) of P(>=2, >=3, >=4): the uncertain band asks only where no level is read."""
        level = self.level(p)
        return level, bool(level == 0 and p[0] >= self.ask)

    @classmethod
    def from_json(cls, data: dict) -> "Calibration":
        return cls({int(k): float(v) for k, v in data["at_least"].items()}, float(data["ask"]))

    def to_json(self) -> dict:
        return {"at_least": {str(k): v for k, v in sorted(self.at_least.items())}, "ask": self.ask}


@dataclass(frozen=True)
class ModelReading:
    level: int
    ask: bool
    at_least: tuple[float, float, float]  # P(>=2), P(>=3), P(>=4) of the riskiest piece
    evidence: tuple[str, ...]


class CrisisModel:
    def __init__(self, model: NgramModel, calibration: Calibration) -> None:
        if model.classes != ("0", "1", "2", "3", "4"):
            raise ModelFileError(f"crisis model classes are {model.classes}, expected levels 0-4")
        self._model = model
        self.calibration = calibration
        model.names, model.proba("")  # built now, at start, not on the first message that needs them
        self._recent: dict[int, ModelReading] = {}

    @classmethod
    def load(cls, directory: Path = MODEL_DIR) -> "CrisisModel":
        path = Path(directory) / CALIBRATION
        try:
            calibration = Calibration.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelFileError(f"{path}: cannot read the calibration ({type(exc).__name__}); "
                                 "rebuild it with `xinzhan crisis-train`") from None
        return cls(NgramModel.load(Path(directory) / WEIGHTS), calibration)

    def at_least(self, text: str) -> np.ndarray:
        """P(level >= 2, 3, 4) for one piece of normalised text."""
        p = self._model.proba(marked(text))
        return np.array([p[2:].sum(), p[3:].sum(), p[4]])

    def pieces(self, text: str) -> list[str]:
        """The message whole, then (when long) its two-sentence windows, within the character budget."""
        parts = sentences(fold(text))
        whole = " ".join(parts)
        if len(parts) <= LONG:
            return [whole]
        windows, spent = [], 0
        for i in range(len(parts) - 1):
            window = " ".join(parts[i:i + WINDOW])
            spent += len(window)
            if spent > BUDGET:
                break
            windows.append(window)
        return [whole, *windows]

    def read(self, text: str) -> ModelReading:
        """The reading of one message; recent ones come from a small cache, since a resident's last
        few messages are read again beside each short new one. Keyed by the text's hash, so the
        cache holds no message text."""
        key = hash(text)
        found = self._recent.pop(key, None)
        if found is None:
            found = self._read(text)
            if len(self._recent) >= CACHED:
                del self._recent[next(iter(self._recent))]
        self._recent[key] = found  # most recent last
        return found

    def _read(self, text: str) -> ModelReading:
        best, best_piece = np.zeros(3), ""
        for piece in self.pieces(text):
            if not piece:
                continue
            p = self.at_least(piece)
            if p[0] > best[0] or (p[0] == best[0] and p[1] > best[1]):
                best, best_piece = np.maximum(best, p), piece
            else:
                best = np.maximum(best, p)
        level, ask = self.calibration.read(best)
        evidence = _words(self._model.strongest(marked(best_piece), [2, 3, 4], k=6))[:3] if (level or ask) else ()
        return ModelReading(level, ask, (float(best[0]), float(best[1]), float(best[2])), evidence)


def _words(grams: list[str]) -> tuple[str, ...]:
    """N-grams as a counsellor reads them: edge marks gone, no single characters, none inside another."""
    kept: list[str] = []
    for gram in (g.strip(START + END).strip() for g in grams):
        if len(gram) > 1 and not any(gram in other for other in kept):
            kept = [other for other in kept if other not in gram] + [gram]
    return tuple(kept)
