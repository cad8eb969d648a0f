"""Train an NgramModel with scikit-learn (the `train` extra); the service itself never imports this.

Corpora are JSON lines in batches written by separate authors (`batch` on every row). Honest
figures come from authors the model never saw: `out_of_author` trains without each batch in turn
and reads that batch, so every message is read by a model that did not learn its author's wording.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from knowledge.ngram_model import NgramModel

NGRAMS = (1, 4)
MIN_DF = 2  # an n-gram seen once is one author's quirk, not evidence


def read_corpus(paths: Iterable[Path]) -> list[dict]:
    rows = []
    for path in sorted(paths):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
    return rows


def fit(texts: list[str], labels: list[str], *, c: float, seed: int, max_chars: int) -> NgramModel:
    """Texts already normalised by the caller's own normaliser (the one it reads with)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=NGRAMS, sublinear_tf=True, min_df=MIN_DF,
                                 lowercase=False, dtype=np.float64)
    features = vectorizer.fit_transform(texts)
    classifier = LogisticRegression(C=c, max_iter=5000, random_state=seed).fit(features, labels)
    return NgramModel(classes=tuple(str(c) for c in classifier.classes_), vocabulary={
        str(g): int(i) for g, i in vectorizer.vocabulary_.items()}, idf=vectorizer.idf_,
        coef=classifier.coef_, intercept=classifier.intercept_, ngram_range=NGRAMS, max_chars=max_chars)


def out_of_author(rows: list[dict], texts: list[str], labels: list[str], train: Callable[[list[str], list[str]], NgramModel],
                  held: Iterable[str]) -> dict[int, NgramModel]:
    """For each batch in `held`, a model trained on every other row; {row index: the model that reads it}."""
    readers: dict[int, NgramModel] = {}
    for batch in held:
        keep = [i for i, row in enumerate(rows) if row["batch"] != batch]
        model = train([texts[i] for i in keep], [labels[i] for i in keep])
        readers.update({i: model for i, row in enumerate(rows) if row["batch"] == batch})
    return readers
