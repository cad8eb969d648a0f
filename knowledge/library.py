"""Everything `knowledge/` knows, loaded and checked once at start.

The app factory calls `load_knowledge()` in its startup so a bad content file stops the service
before it takes a message, and stores the result under an AppKey for flows to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from knowledge.content import DATA_DIR
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


def load_knowledge(root: Path | None = None) -> Knowledge:
    """Load from `root` (a directory laid out like `knowledge/data/`), by default the packaged data."""
    root = root or DATA_DIR
    return Knowledge(scales=load_scales(root / "scales"), tips=load_tips(root / "tips"),
                     stations=load_stations(root / "stations.yaml"), texts=load_texts(root / "texts"))
