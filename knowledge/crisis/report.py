"""What `xinzhan crisis-train` prints: the figures on the held-back author batches for the rules, the
model and the two combined as the service reads them, overall, per language, per kind and per batch;
and, on the tuning batches, what each way of combining them costs (that choice is made there)."""
from __future__ import annotations

import json

import numpy as np

from .detector import RULE_GATE, combine, too_short
from .rules import RuleEngine
from .train import Corpus, figures

COLUMNS = ("n", "recall_3", "recall_2", "recall_2_or_ask", "level4_read_0", "false_alarms", "asked")


def _row(name: str, values: dict) -> str:
    cells = [f"{values[c]:.3f}" if isinstance(values[c], float) else str(values[c] if values[c] is not None else "-")
             for c in COLUMNS]
    return f"{name:<22}" + "".join(f"{cell:>16}" for cell in cells)


GATES = (0.0, 0.25, 0.5, 1.0)  # RULE_GATE candidates shown on the tuning batches


def readings(corpus: Corpus, probabilities: dict[int, np.ndarray], calibration, rules: RuleEngine,
             gate: float = RULE_GATE) -> dict:
    """Per message: (level, ask) of the rules, of the model and of the service's combination."""
    out = {"rules": {}, "model": {}, "service": {}}
    for i, p in probabilities.items():
        rule_level = int(rules.scan(corpus.rows[i]["text"]).level)
        model_level, ask = calibration.read(p)
        if model_level and too_short(corpus.rows[i]["text"]):  # as the detector reads it
            model_level, ask = 0, True
        out["rules"][i] = (rule_level, False)
        out["model"][i] = (model_level, ask)
        out["service"][i] = combine(rule_level, model_level, ask, float(p[0]), calibration.ask, gate)
    return out


def print_report(corpus: Corpus, report: dict, rules: RuleEngine) -> None:
    calibration = report["calibration"]
    print(f"held back (never trained or tuned on): {', '.join(report['held_back'])}; "
          f"thresholds chosen on {', '.join(report['tuned_on'])} (each read by a model without its author)")
    print("calibration: " + json.dumps(calibration.to_json()))
    header = f"{'':<22}" + "".join(f"{c:>16}" for c in COLUMNS)
    tuning = readings(corpus, report["tuning"], calibration, rules)
    print(f"\n== tuning batches, out of author\n{header}")
    for name, values in tuning.items():
        print(_row(name, figures(corpus, values)["all"]))
    for gate in GATES:
        gated = readings(corpus, report["tuning"], calibration, rules, gate)["service"]
        print(_row(f"rule gate {gate:g}" + (" *" if gate == RULE_GATE else ""), figures(corpus, gated)["all"]))
    held = readings(corpus, report["held"], calibration, rules)
    print(f"\n== HELD-BACK batches (the figures to quote)\n{header}")
    for name, values in held.items():
        print(_row(name, figures(corpus, values)["all"]))
    for title, group in (("language", lambda r: r["lang"]), ("kind", lambda r: r["kind"]),
                         ("batch", lambda r: r["batch"])):
        print(f"\n== held back, service reading, per {title}\n{header}")
        for name, values in figures(corpus, held["service"], group).items():
            print(_row(name, values))
