"""`xinzhan crisis-scan`: audit the lexicon against old transcripts, one JSON line in, one out.

Staff pipe exported messages through it to see what the detector would have flagged and why; a
bad line is reported with its number and skipped so one broken export line does not stop a run.
"""
from __future__ import annotations

import json
import sys

from .detector import Detector


def register(subparsers) -> None:
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
