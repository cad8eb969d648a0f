"""The turn pipeline: ordered stages that packages register (handoff, safety, router, ...).

A stage returns replies when it handled the turn, or None to let the next stage try. Packages
plug in here so `bot/` never imports them. Each stage's time is observed under its name.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from prometheus_client import Histogram

from bot import metrics
from bot.transcript import ResidentRef
from bot.values import Inbound, Reply


@dataclass(frozen=True)
class Turn:
    inbound: Inbound
    resident: ResidentRef
    language: str  # the reply language, decided once for the turn (bot.language)
    notes: dict = field(default_factory=dict)  # what one stage tells later ones (e.g. the risk reading)


Stage = Callable[[Turn], Awaitable[list[Reply] | None]]

# Conventional positions, so packages agree on order without importing each other.
ORDER_PLATFORM_EVENTS = 10  # delivery reports (scheduler)
ORDER_SAFETY = 20  # crisis detection runs before anything else the resident sees
ORDER_HANDOFF = 30  # an open case: messages go to the counsellor, the bot is silent
ORDER_ROUTER = 100  # flows


class Pipeline:
    def __init__(self) -> None:
        self._stages: list[tuple[int, str, Stage, Histogram]] = []

    def add(self, order: int, name: str, stage: Stage) -> None:
        self._stages.append((order, name, stage, metrics.STAGE_SECONDS.labels(stage=name)))
        self._stages.sort(key=lambda s: s[0])

    @property
    def names(self) -> list[str]:
        return [name for _, name, _, _ in self._stages]

    async def run(self, turn: Turn) -> list[Reply]:
        for _, _, stage, seconds in self._stages:
            started = time.perf_counter()
            try:
                replies = await stage(turn)
            finally:
                seconds.observe(time.perf_counter() - started)
            if replies is not None:
                return replies
        return []
