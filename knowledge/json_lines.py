"""The scan commands' shared loop: JSON lines {id, text} on stdin, one JSON line out for each.

Staff pipe exported messages through `crisis-scan` and `intent-scan`; a bad line is reported with
its number and skipped, so one broken export line does not stop a run (the status is then 1).
"""
from __future__ import annotations

import json
import sys
from typing import Callable, TextIO


def _parse(line: str) -> dict:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from exc
    if not isinstance(item, dict) or "id" not in item or not isinstance(item.get("text"), str):
        raise ValueError('expected an object {"id": ..., "text": "..."}')
    return item


def scan_lines(command: str, read: Callable[[str], dict], source: TextIO | None = None) -> int:
    """Print {"id", **read(text)} for each line of `source` (stdin); returns 1 if any line was bad, else 0."""
    bad = 0
    for number, line in enumerate(source or sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = _parse(line)
        except ValueError as exc:
            bad += 1
            print(f"{command}: line {number}: {exc}", file=sys.stderr)
            continue
        print(json.dumps({"id": item["id"], **read(item["text"])}, ensure_ascii=False))
    return 1 if bad else 0
