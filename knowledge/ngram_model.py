"""A linear classifier over character n-grams, read with numpy alone.

Short messages in Chinese, Cantonese and English have no reliable word boundaries, and wording the
authors of a rule list never imagined still shares character n-grams with wording they did: this is
the known-good baseline for short Chinese text. Training needs scikit-learn (the `train` extra,
`knowledge.ngram_training`); the service only reads the shipped weights from an .npz file.

Features are those of scikit-learn's TfidfVectorizer(analyzer="char", sublinear_tf=True, norm="l2")
over text that the caller has already normalised, so a model trained there reads the same here.
"""
from __future__ import annotations

import math
import zipfile
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from knowledge.content import DataFileError

FORMAT = 1


class ModelFileError(DataFileError):
    """The model file is missing or unreadable; the message names it."""


@dataclass(frozen=True)
class NgramModel:
    classes: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: np.ndarray  # (features,)
    coef: np.ndarray  # (classes, features), or (1, features) for two classes
    intercept: np.ndarray
    ngram_range: tuple[int, int]
    max_chars: int  # longer text is read in pieces of this size by the caller

    def grams(self, text: str) -> list[str]:
        low, high = self.ngram_range
        return [text[i:i + k] for k in range(low, high + 1) for i in range(len(text) - k + 1)]

    @cached_property
    def names(self) -> list[str]:
        """Feature index -> n-gram, for naming evidence."""
        names = [""] * len(self.vocabulary)
        for gram, j in self.vocabulary.items():
            names[j] = gram
        return names

    def _vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The message's TF-IDF row as (feature indices, weights): sublinear counts, L2-normalised."""
        counts = Counter(map(self.vocabulary.get, self.grams(text[:self.max_chars])))  # counted in C
        counts.pop(None, None)  # n-grams the model never saw
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        rows = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        counts_a = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        weights = (1.0 + np.log(counts_a)) * self.idf[rows]
        return rows, weights / math.sqrt(weights @ weights)

    @cached_property
    def _by_feature(self) -> np.ndarray:
        """The weights feature-major, so a message's few features are read as contiguous rows."""
        return np.ascontiguousarray(self.coef.T)

    def scores(self, text: str) -> np.ndarray:
        rows, weights = self._vector(text)
        return weights @ self._by_feature[rows] + self.intercept

    def proba(self, text: str) -> np.ndarray:
        """Probability of each class, in the order of `classes`."""
        z = self.scores(text)
        if len(self.classes) == 2:
            p = 1.0 / (1.0 + math.exp(-float(z[0])))
            return np.array([1.0 - p, p])
        z = np.exp(z - z.max())
        return z / z.sum()

    def strongest(self, text: str, toward: list[int], k: int = 3) -> list[str]:
        """The n-grams in `text` that pushed hardest toward the classes `toward` (evidence to show)."""
        rows, weights = self._vector(text)
        if not len(rows):
            return []
        by_feature = self._by_feature[rows]  # (features of the text, classes)
        if len(self.classes) == 2:
            by_feature = np.hstack([-by_feature, by_feature])
        push = (by_feature[:, toward].sum(1) - by_feature.mean(1)) * weights
        names = self.names
        picked = []
        for i in np.argsort(-push):
            gram = names[int(rows[i])]
            if push[i] <= 0 or len(picked) == k:
                break
            if len(gram.strip()) > 1 and not any(gram in other for other in picked):
                picked.append(gram)
        return picked

    def save(self, path: Path) -> None:
        grams = sorted(self.vocabulary, key=self.vocabulary.get)
        np.savez_compressed(path, format=np.array(FORMAT), classes=np.array(self.classes),
                            grams=np.array(grams), idf=self.idf.astype(np.float32),
                            coef=self.coef.astype(np.float32), intercept=self.intercept.astype(np.float64),
                            ngram_range=np.array(self.ngram_range), max_chars=np.array(self.max_chars))

    @classmethod
    def load(cls, path: Path) -> "NgramModel":
        try:
            with np.load(path, allow_pickle=False) as data:
                if int(data["format"]) != FORMAT:
                    raise ModelFileError(f"{path}: model format {int(data['format'])}, expected {FORMAT}")
                grams = data["grams"].tolist()
                model = cls(classes=tuple(data["classes"].tolist()), vocabulary={g: i for i, g in enumerate(grams)},
                            idf=data["idf"].astype(np.float64), coef=data["coef"].astype(np.float64),
                            intercept=data["intercept"].astype(np.float64),
                            ngram_range=tuple(int(x) for x in data["ngram_range"]), max_chars=int(data["max_chars"]))
        except ModelFileError:
            raise
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelFileError(f"{path}: cannot read the model ({type(exc).__name__}: {exc}); "
                                 "rebuild it with its train command") from None
        if model.coef.shape[1] != len(grams) or model.idf.shape != (len(grams),):
            raise ModelFileError(f"{path}: weights do not match the vocabulary; rebuild it with its train command")
        return model
