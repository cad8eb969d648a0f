"""`xinzhan crisis-scan` and `xinzhan crisis-train`.

crisis-scan: staff pipe exported messages through it to see what the detector would have flagged
and why (level 1 with `"ask": true` is the uncertain band, where the bot asks); a bad line is
reported with its number and skipped so one broken export line does not stop a run.
crisis-train: rebuild the model from the corpus (needs the `train` extra) and print the figures
measured on author batches held back from training and from the choice of thresholds.
"""
from __future__ import annotations

from knowledge.json_lines import scan_lines

from .detector import Detector
from .rules import RuleEngine


def register(subparsers) -> None:
    t = subparsers.add_parser("crisis-train", help="rebuild the crisis model from its corpus and print "
                              "the figures on author batches it was not trained or tuned on")
    t.add_argument("--seed", type=int, help="the training seed (default: the shipped one)")
    t.set_defaults(func=train_command)
    p = subparsers.add_parser(
        "crisis-scan",
        help="read JSON lines {id, text} on stdin, write {id, crisis, level, matched, reason} per line",
    )
    p.add_argument("--context-level", type=int, default=0, choices=range(5),
                   help="read every message as if the conversation had already reached this level")
    p.set_defaults(func=run)


def run(args) -> int:
    detector = Detector.load()
    return scan_lines("crisis-scan", lambda text: detector.scan(text, context_level=args.context_level).to_json())


def train_command(args) -> int:
    from .report import print_report
    from .train import SEED, Corpus, build

    corpus = Corpus.load()
    report = build(corpus, seed=args.seed if args.seed is not None else SEED)
    print_report(corpus, report, RuleEngine.load())
    return 0
