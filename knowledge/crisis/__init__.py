"""Crisis detection: a deterministic, explainable reading of risk in one message.

The lexicon is data (knowledge/data/crisis/*.yaml); this package folds text, matches it and
applies the rules. Callers use `Detector.load()` once and `detector.scan(text, context_level)`.
"""
from .detector import Detector
from .levels import Risk, RiskLevel
from .lexicon import LexiconError

__all__ = ["Detector", "LexiconError", "Risk", "RiskLevel"]
