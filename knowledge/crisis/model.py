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

from knowledge.ngram_model import ModelFileError, NgramModel, Row

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
    riskiest: int = 0  # which piece (CrisisModel.spans) that was: its n-grams are the evidence


class CrisisModel:
    def __init__(self, model: NgramModel, calibration: Calibration) -> None:
        if model.classes != ("0", "1", "2", "3", "4"):
            raise ModelFileError(f"crisis model classes are {model.classes}, expected levels 0-4")
        self._model = model
        self.calibration = calibration
        model.names, model.proba("")  # built now, at start, not on the first message that needs them
        self._recent: dict[int, ModelReading] = {}
        # The feature row of the message last read whole (by its hash), for its evidence asked right after.
        self._latest: tuple[int, Row] | None = None

    @classmethod
    def load(cls, directory: Path = MODEL_DIR) -> "CrisisModel":
        path = Path(directory) / CALIBRATION
        try:
            calibration = Calibration.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelFileError(f"{path}: cannot read the calibration ({type(exc).__name__}); "
                                 "rebuild it with `xinzhan crisis-train`") from None
        return cls(NgramModel.load(Path(directory) / WEIGHTS), calibration)

    def spans(self, text: str, parts: list[str] | None = None) -> tuple[str, list[tuple[int, int]]]:
        """The normalised message, and its pieces as spans of it: the whole, then (when long) its
        two-sentence windows within the character budget. Empty pieces are left out. `parts`: the
        message's sentences when the caller has them."""
        parts = sentences(fold(text)) if parts is None else parts
        whole = " ".join(parts)
        spans = [(0, len(whole))] if whole else []
        if len(parts) <= LONG:
            return whole, spans
        starts = np.cumsum([0] + [len(part) + 1 for part in parts[:-1]]).tolist()
        spent = 0
        for i in range(len(parts) - 1):
            window = (starts[i], starts[i + 1] + len(parts[i + 1]))
            spent += window[1] - window[0]
            if spent > BUDGET:
                break
            spans.append(window)
        return whole, spans

    def pieces(self, text: str) -> list[str]:
        """The pieces read, as text (for tools and tests)."""
        whole, spans = self.spans(text)
        return [whole[a:b] for a, b in spans]

    def _piece_readings(self, text: str, parts: list[str] | None = None) -> np.ndarray:
        """P(level >= 2, 3, 4) of each piece, one row each; several pieces are read in one pass."""
        whole, spans = self.spans(text, parts)
        if len(spans) == 1:
            row = self._model.vector(marked(whole))
            self._latest = (hash(text), row)
            p = self._model.proba_of(row)
            return np.array([[p[2:].sum(), p[3:].sum(), p[4]]])
        p = self._model.proba_of_spans(whole, spans, (START, END))
        return np.column_stack([p[:, 2:].sum(1), p[:, 3:].sum(1), p[:, 4]])

    def at_least(self, text: str) -> np.ndarray:
        """P(level >= 2, 3, 4) of the message, each the highest over its pieces."""
        p = self._piece_readings(text)
        return p.max(axis=0) if len(p) else np.zeros(3)

    def read(self, text: str, parts: list[str] | None = None) -> ModelReading:
        """The reading of one message; recent ones come from a small cache, since a resident's last
        few messages are read again beside each short new one. Keyed by the text's hash, so the
        cache holds no message text."""
        key = hash(text)
        found = self._recent.pop(key, None)
        if found is None:
            found = self._read(text, parts)
            if len(self._recent) >= CACHED:
                del self._recent[next(iter(self._recent))]
        self._recent[key] = found  # most recent last
        return found

    def _read(self, text: str, parts: list[str] | None = None) -> ModelReading:
        p = self._piece_readings(text, parts)
        if not len(p):
            return ModelReading(0, False, (0.0, 0.0, 0.0))
        best = p[0] if len(p) == 1 else p.max(axis=0)
        level, ask = self.calibration.read(best)
        riskiest = max(range(len(p)), key=lambda i: (p[i, 0], p[i, 1]))
        return ModelReading(level, ask, (float(best[0]), float(best[1]), float(best[2])), riskiest)

    def evidence(self, text: str, reading: ModelReading, parts: list[str] | None = None) -> tuple[str, ...]:
        """The n-grams of `text`'s riskiest piece that weighed most toward risk, for counsellors. Asked
        for only where the model's reading is acted on: most readings the rules explain. Found from the
        text again, so the readings kept for recent messages hold nothing of what they said; a message
        just read whole lends its feature row (`parts`: its sentences, when the caller has them)."""
        if not (reading.level or reading.ask):
            return ()
        if self._latest is not None and self._latest[0] == hash(text):
            row = self._latest[1]
        else:
            whole, spans = self.spans(text, parts)
            a, b = spans[reading.riskiest]
            row = self._model.vector(marked(whole[a:b]))
        return _words(self._model.strongest(row, [2, 3, 4], k=6))[:3]


def _words(grams: list[str]) -> tuple[str, ...]:
    """N-grams as a counsellor reads them: edge marks gone, no single characters, none inside another."""
    kept: list[str] = []
    for gram in (g.strip(START + END).strip() for g in grams):
        if len(gram) > 1 and not any(gram in other for other in kept):
            kept = [other for other in kept if other not in gram] + [gram]
    return tuple(kept)
