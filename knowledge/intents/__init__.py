"""What a resident's free text asks for: a learned intent reading plus small data-driven slots.

The intent is learned (a character n-gram model, `knowledge/data/intents/model.npz`, built by
`xinzhan intent-train` from the corpus of independent authors); the slots (scale, place, topic,
action, ...) are matched from word lists and the station map, because they are facts we hold as data.
"""
from knowledge.intents.reader import IntentReader, Reading, load_reader

__all__ = ["IntentReader", "Reading", "load_reader"]
