"""The risk levels and the value a scan returns.

One enum for the levels (CRISIS.md) so every package compares the same numbers, and a frozen
dataclass so a reading can cross from the detector to flows and handoff without being changed.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class RiskLevel(IntEnum):
    """C-SSRS based levels; 2 and above is a crisis (see CRISIS.md)."""

    NONE = 0
    CONCERN = 1
    PASSIVE = 2
    ACTIVE = 3
    IMMINENT = 4


@dataclass(frozen=True)
class Risk:
    """One message's reading: the level, the evidence and a reason a counsellor can read."""

    level: RiskLevel = RiskLevel.NONE
    matched: tuple[str, ...] = ()
    reason: str = ""
    ask: bool = False  # uncertain: ask the resident directly rather than guess (level 0-1 only)

    @property
    def crisis(self) -> bool:
        return self.level >= RiskLevel.PASSIVE

    def to_json(self) -> dict:
        return {
            "crisis": self.crisis,
            "level": int(self.level),
            "matched": list(self.matched),
            "reason": self.reason,
            "ask": self.ask,
        }
