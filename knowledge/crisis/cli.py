"""`xinzhan crisis-scan` and `xinzhan crisis-train`.

crisis-scan: staff pipe exported messages through it to see what the detector would have flagged
and why (level 1 with `"ask": true` is the uncertain band, where the bot asks); a bad line is
reported with its number and skipped so one broken export line does not stop a run.
crisis-train: rebuild the model from the corpus (needs the `train` extra) and print the figures
measured on author batches held back from training and from the choice of thresholds.
"""
from __future__ import annotations

import json
import sys

from .detector import Detector
from .rules import RuleEngine


def register(subparsers) -> None:
    t = subparsers.add_parser("crisis-train", help="rebuild the crisis model from its corpus and print "
                              "the figures on author batches it was not trained or tuned on")
    t.add_argument("--seed", type=int, help="the seed of the held-back draw and the training (default: the shipped one)")
    t.set_defaults(func=train_command)
    p = subparsers.add_parser(
        "crisis-scan",
        help="read JSON lines {id, text} on stdin, write {id, crisis, level, matched, reason} per line",
    )
    p.add_argument("--context-level", type=int, default=0, choices=range(5),
                   help="read every message as if the conversation had already reached this level")
    p.set_defaults(func=run)


def _parse(line: str) -> dict:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from exc
    if not isinstance(item, dict) or "id" not in item or not isinstance(item.get("text"), str):
        raise ValueError('expected an object {"id": ..., "text": "..."}')
    return item


def run(args) -> int:
    detector = Detector.load()
    bad = 0
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = _parse(line)
        except ValueError as exc:
            bad += 1
            print(f"crisis-scan: line {number}: {exc}", file=sys.stderr)
            continue
        risk = detector.scan(item["text"], context_level=args.context_level)
        print(json.dumps({"id": item["id"], **risk.to_json()}, ensure_ascii=False))
    return 1 if bad else 0


def train_command(args) -> int:
    from .report import print_report
    from .train import SEED, Corpus, build

    corpus = Corpus.load()
    report = build(corpus, seed=args.seed if args.seed is not None else SEED)
    print_report(corpus, report, RuleEngine.load())
    return 0
