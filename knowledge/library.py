"""Everything `knowledge/` knows, loaded and checked once at start.

The app factory calls `load_knowledge()` in its startup so a bad content file (or a missing or
corrupt intent model) stops the service before it takes a message, and stores the result under an
AppKey for flows to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from knowledge.content import DATA_DIR
from knowledge.intents import IntentReader
from knowledge.intents.reader import load_model
from knowledge.intents.slots import load_slots
from knowledge.scales import ScaleLibrary, load_scales
from knowledge.stations import StationMap, load_stations
from knowledge.texts import Texts, load_texts
from knowledge.tips import TipLibrary, load_tips


@dataclass(frozen=True)
class Knowledge:
    scales: ScaleLibrary
    tips: TipLibrary
    stations: StationMap
    texts: Texts
    intents: IntentReader


def load_knowledge(root: Path | None = None) -> Knowledge:
    """Load from `root` (a directory laid out like `knowledge/data/`), by default the packaged data."""
    root = root or DATA_DIR
    stations = load_stations(root / "stations.yaml")
    intents = IntentReader(load_model(root / "intents" / "model.npz"),
                           load_slots(stations, root / "intents" / "slots.yaml"))
    scales, tips = load_scales(root / "scales"), load_tips(root / "tips")
    intents.slots.check("scale", set(scales.ids()))
    intents.slots.check("topic", {topic.id for topic in tips.topics()})
    return Knowledge(scales=scales, tips=tips, stations=stations, texts=load_texts(root / "texts"), intents=intents)
