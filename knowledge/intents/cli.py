"""`xinzhan intent-train` and `xinzhan intent-scan`.

intent-train rebuilds the shipped model from the corpus (same seed, same model) and prints the
figures on authors held back; intent-scan reads JSON lines {id, text} and writes each reading, so
staff can check what the bot would make of old messages. A bad line is reported and skipped.
"""
from __future__ import annotations

import json
from pathlib import Path

from knowledge.intents.reader import MODEL_FILE, load_reader
from knowledge.json_lines import scan_lines
from knowledge.stations import load_stations


def register(subparsers) -> None:
    train = subparsers.add_parser("intent-train", help="rebuild the intent model from its corpus and print "
                                                       "the cross-author figures (needs the `train` extra)")
    train.add_argument("--seed", type=int, default=None, help="random seed (default: the one the shipped model uses)")
    train.add_argument("--out", default=str(MODEL_FILE), help="where to write the model")
    train.add_argument("--offsets", default=None, help="where to write the prior offsets it carries (default: beside the "
                                                      "shipped model)")
    train.add_argument("--skip-figures", action="store_true", help="only train (the figures take many more fits)")
    train.set_defaults(func=run_train)
    scan = subparsers.add_parser("intent-scan", help="read JSON lines {id, text} on stdin, write "
                                                     "{id, intent, confidence, slots} per line")
    scan.set_defaults(func=run_scan)


def run_train(args) -> int:
    from knowledge.intents import training

    seed = training.SEED if args.seed is None else args.seed
    rows = training.corpus()
    print(f"corpus: {len(rows)} requests in batches {', '.join(sorted({r['batch'] for r in rows}))}")
    if not args.skip_figures:
        print("\n".join(training.cross_author(rows, seed).lines()))
    model, offsets = training.train_all(rows, seed)
    model.save(Path(args.out))
    offsets_path = Path(args.offsets or training.OFFSETS_FILE)
    offsets_path.write_text(json.dumps(offsets, indent=2) + "\n", encoding="utf-8")
    print(f"model written to {args.out} ({len(model.vocabulary)} n-grams, {len(model.classes)} intents, seed {seed}; "
          f"prior offsets {offsets} in {offsets_path})")
    return 0


def run_scan(args) -> int:
    reader = load_reader(load_stations())
    return scan_lines("intent-scan", lambda text: reader.read(text).to_json())
