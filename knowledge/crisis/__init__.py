"""Crisis detection: an explainable rule engine and a learned model, read together.

The lexicon is data (knowledge/data/crisis/*.yaml), the model is data too (knowledge/data/crisis/
model/, rebuilt from the corpus by `xinzhan crisis-train`). Callers use `Detector.load()` once and
`detector.scan(text, context_level, recent)`.
"""
from .detector import Detector
from .levels import Risk, RiskLevel
from .lexicon import LexiconError

__all__ = ["Detector", "LexiconError", "Risk", "RiskLevel"]
