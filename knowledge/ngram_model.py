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
from itertools import repeat
from pathlib import Path
from typing import NamedTuple

import numpy as np

from knowledge.content import DataFileError

FORMAT = 1


class ModelFileError(DataFileError):
    """The model file is missing or unreadable; the message names it."""


class Row(NamedTuple):
    """One text's TF-IDF row: its known features, their weights and their class weights (features x classes)."""
    features: np.ndarray
    weights: np.ndarray
    coefs: np.ndarray


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

    def vector(self, text: str) -> Row:
        """The message's TF-IDF row: sublinear counts, L2-normalised, with its features' class weights."""
        counts = Counter(map(self.vocabulary.get, self.grams(text[:self.max_chars])))  # counted in C
        counts.pop(None, None)  # n-grams the model never saw
        rows = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * self.idf[rows]
        return Row(rows, weights / math.sqrt(weights @ weights) if len(rows) else weights, self._by_feature[rows])

    @cached_property
    def _by_feature(self) -> np.ndarray:
        """The weights feature-major, so a message's few features are read as contiguous rows."""
        return np.ascontiguousarray(self.coef.T)

    def scores(self, text: str) -> np.ndarray:
        return self._scores_of(self.vector(text))

    def _scores_of(self, row: Row) -> np.ndarray:
        return row.weights @ row.coefs + self.intercept

    def proba(self, text: str) -> np.ndarray:
        """Probability of each class, in the order of `classes`."""
        return self.proba_of(self.vector(text))

    def proba_of(self, row: Row) -> np.ndarray:
        """`proba` of a text's `vector`, for a caller that may explain the same row with `strongest`."""
        return self._probabilities(self._scores_of(row))

    def proba_of_spans(self, text: str, spans: list[tuple[int, int]], edges: tuple[str, str] = ("", "")) -> np.ndarray:
        """`proba(before + text[a:b] + after)` for each span (a, b), one row each, with `edges` = (before, after).

        Overlapping pieces of one text (a long message whole and in windows) share their inner n-grams:
        each is looked up once, and every piece is weighed in one pass of array work. Only the few
        n-grams that touch a piece's edges are looked up per piece."""
        if not spans:
            return np.zeros((0, len(self.classes)))
        inner = [(a, self._inner_end(a, b, edges) - a) for a, b in spans]  # text each piece keeps after the cut
        ids = self._ids_by_length(text, max(a + size for a, size in inner))
        pieces, features = self._edge_features(text, spans, inner, edges)
        starts = np.array([a for a, _ in inner], dtype=np.int64)
        sizes = np.array([size for _, size in inner], dtype=np.int64)
        for k, by_start in ids.items():  # the n-grams wholly inside each piece, gathered at once
            counts = np.maximum(sizes - k + 1, 0)
            first = np.repeat(starts - np.cumsum(counts) + counts, counts)
            features.append(by_start[first + np.arange(len(first))])
            pieces.append(np.repeat(np.arange(len(spans)), counts))
        features_a, pieces_a = np.concatenate(features), np.concatenate(pieces)
        known = features_a >= 0
        keys, counts = np.unique(pieces_a[known] * len(self.vocabulary) + features_a[known], return_counts=True)
        piece, rows = np.divmod(keys, len(self.vocabulary))
        weights, coefs = (1.0 + np.log(counts)) * self.idf[rows], self._by_feature[rows]
        norms = np.sqrt(np.bincount(piece, weights * weights, minlength=len(spans)))
        weights /= np.where(norms > 0, norms, 1.0)[piece]
        z = np.tile(self.intercept, (len(spans), 1))
        if len(rows):
            bounds = np.flatnonzero(np.r_[True, piece[1:] != piece[:-1]])  # where each piece's features start
            z[piece[bounds]] += np.add.reduceat(weights[:, None] * coefs, bounds, axis=0)
        return self._probabilities(z)

    def _inner_end(self, a: int, b: int, edges: tuple[str, str]) -> int:
        """Where a piece's text ends once the piece is cut to `max_chars` (its leading edge counts)."""
        return min(b, a + max(0, self.max_chars - len(edges[0])))

    def _ids_by_length(self, text: str, end: int) -> dict[int, np.ndarray]:
        """Feature index (-1: unseen) of each n-gram of text[:end], by length, indexed by start."""
        low, high = self.ngram_range
        get, unseen = self.vocabulary.get, repeat(-1)
        return {k: np.array(list(map(get, [text[i:i + k] for i in range(end - k + 1)], unseen)), dtype=np.int64)
                for k in range(low, high + 1)}

    def _edge_features(self, text: str, spans: list[tuple[int, int]], inner: list[tuple[int, int]],
                       edges: tuple[str, str]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(piece numbers, feature indices) of the n-grams that touch a piece's edges: those are not
        n-grams of `text`, so each piece looks up its own."""
        before, after = edges
        low, high = self.ngram_range
        get, lead = self.vocabulary.get, len(before)
        found, owners = [], []
        for j, ((a, b), (_, size)) in enumerate(zip(spans, inner)):
            piece = (before + text[a:b] + after)[:self.max_chars]
            grams = []
            for k in range(low, high + 1):  # those starting in the leading edge, then those reaching past the text
                starts = max(0, len(piece) - k + 1)
                grams += [piece[i:i + k] for i in (*range(min(lead, starts)),
                                                   *range(max(lead + size - k + 1, min(lead, starts)), starts))]
            found += map(get, grams, repeat(-1))
            owners += [j] * len(grams)
        return [np.array(owners, dtype=np.int64)], [np.array(found, dtype=np.int64)]

    def _probabilities(self, z: np.ndarray) -> np.ndarray:
        """Class probabilities from decision scores, along the last axis (one text, or one row a piece)."""
        if len(self.classes) == 2:
            p = 1.0 / (1.0 + np.exp(-z[..., :1]))
            return np.concatenate([1.0 - p, p], axis=-1)
        z = np.exp(z - z.max(axis=-1, keepdims=True))
        return z / z.sum(axis=-1, keepdims=True)

    def strongest(self, row: Row, toward: list[int], k: int = 3) -> list[str]:
        """The n-grams of a text's `row` that pushed hardest toward the classes `toward` (evidence to show)."""
        rows, weights, by_feature = row  # by_feature: (features of the text, classes)
        if not len(rows):
            return []
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
