"""Recall, false alarms and level agreement on the labelled corpus.

The tuned corpus (corpus.jsonl) is what the lexicon was tuned on; the held-out corpus
(corpus_heldout.jsonl) was written after the last tuning and has not been tuned on, so its
numbers tell how the detector does on text it has not seen. Earlier held-out rounds were folded
into the tuned corpus after they were measured (their notes say so). Whoever tunes on the
held-out misses must fold them in likewise and write a fresh held-out set.
Thresholds sit just under what the detector achieves, so a regression fails the test; every
miss is printed for whoever tunes the lexicon next.
"""
import json
from pathlib import Path

import pytest

from knowledge.crisis import Detector

HERE = Path(__file__).parent
# (recall of >=2 as crisis, recall of >=3 reaching >=3, max false-alarm rate, exact agreement)
THRESHOLDS = {
    "corpus.jsonl": (0.98, 0.97, 0.01, 0.98),
    "corpus_heldout.jsonl": (0.84, 0.86, 0.06, 0.87),
}


def _cases(name: str) -> list[dict]:
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _metrics(detector: Detector, cases: list[dict]) -> dict:
    misses = []
    crisis = [c for c in cases if c["level"] >= 2]
    severe = [c for c in cases if c["level"] >= 3]
    calm = [c for c in cases if c["level"] <= 1]
    got = {c["id"]: int(detector.scan(c["text"], c.get("context", 0)).level) for c in cases}
    for c in cases:
        if got[c["id"]] != c["level"]:
            misses.append(f"{c['id']} [{c['category']}] expected {c['level']} got {got[c['id']]}: {c['text']}")
    return {
        "recall": sum(got[c["id"]] >= 2 for c in crisis) / len(crisis),
        "severe_recall": sum(got[c["id"]] >= 3 for c in severe) / len(severe),
        "false_alarms": sum(got[c["id"]] >= 2 for c in calm) / len(calm),
        "exact": sum(got[c["id"]] == c["level"] for c in cases) / len(cases),
        "misses": misses,
    }


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector.load()


@pytest.mark.parametrize("name", sorted(THRESHOLDS))
def test_corpus_meets_recall_false_alarm_and_agreement_thresholds(detector, name):
    cases = _cases(name)
    m = _metrics(detector, cases)
    print(f"\n{name}: n={len(cases)} recall={m['recall']:.3f} severe_recall={m['severe_recall']:.3f} "
          f"false_alarms={m['false_alarms']:.3f} exact={m['exact']:.3f}")
    print("\n".join(m["misses"]))
    recall, severe, false_alarms, exact = THRESHOLDS[name]
    assert m["recall"] >= recall
    assert m["severe_recall"] >= severe
    assert m["false_alarms"] <= false_alarms
    assert m["exact"] >= exact


def test_corpus_ids_are_unique_and_levels_valid():
    for name in THRESHOLDS:
        cases = _cases(name)
        assert len({c["id"] for c in cases}) == len(cases)
        assert all(c["level"] in range(5) and c["text"] and c["category"] for c in cases)
