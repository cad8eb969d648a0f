"""`xinzhan score`: score a scale from the command line, for staff checking a result by hand."""

from __future__ import annotations

import argparse
import json
import sys

from knowledge.scales import default_scales


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "score", help="score a screening scale, e.g. --scale PHQ-9 --answers 0,1,2,0,0,1,0,0,0")
    parser.add_argument("--scale", required=True, help="scale id, any case: PHQ-9, phq9, EPDS, ...")
    parser.add_argument(
        "--answers", required=True,
        help="comma-separated answers as the resident gives them (EPDS: option positions 0-3)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        answers = [int(part) for part in args.answers.split(",")]
    except ValueError:
        print(f"error: --answers must be whole numbers separated by commas, got {args.answers!r}",
              file=sys.stderr)
        return 2
    try:
        result = default_scales().score(args.scale, answers)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result.as_dict(), ensure_ascii=False))
    return 0
