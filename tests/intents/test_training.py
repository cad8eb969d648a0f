"""`xinzhan intent-train` reproduces the shipped model; `xinzhan intent-scan` reads JSON lines."""
from __future__ import annotations

import argparse
import io
import json

import numpy as np

from knowledge.intents import cli, training
from knowledge.intents.reader import load_model
from knowledge.intents.text import prepare
from tests.intents.test_reading import EVERYDAY


def test_retraining_from_the_corpus_with_the_seed_reproduces_the_shipped_model():
    rows = training.corpus()
    (retrained, _), shipped = training.train_all(rows, offsets=training.shipped_offsets()), load_model()
    texts = [prepare(r["text"]) for r in rows[::7]] + [prepare(text) for text, _ in EVERYDAY]
    assert retrained.classes == shipped.classes and retrained.vocabulary == shipped.vocabulary
    for text in texts:  # the shipped weights are float32: the same readings, to float32 precision
        assert np.allclose(retrained.proba(text), shipped.proba(text), atol=1e-4)


def _scan(monkeypatch, capsys, stdin: str) -> tuple[int, list[dict], str]:
    parser = argparse.ArgumentParser(prog="xinzhan")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["intent-scan"])
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_intent_scan_writes_one_reading_per_line(monkeypatch, capsys):
    code, rows, err = _scan(monkeypatch, capsys, '{"id": 1, "text": "我想做个抑郁测试"}\n{"id": "b", "text": "转人工"}\n')
    assert code == 0 and err == ""
    assert [(r["id"], r["intent"], r["slots"]) for r in rows] == [(1, "assessment", {"scale": "PHQ-9"}),
                                                                 ("b", "counsellor", {})]
    assert all(0 < r["confidence"] <= 1 for r in rows)


def test_intent_scan_reports_bad_lines_and_fails_the_run(monkeypatch, capsys):
    code, rows, err = _scan(monkeypatch, capsys, 'nope\n{"id": 2, "text": "最近有什么活动"}\n{"id": 3}\n')
    assert code == 1 and [r["id"] for r in rows] == [2]
    assert "line 1: not valid JSON" in err and "line 3:" in err
