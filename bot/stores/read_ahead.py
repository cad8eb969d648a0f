"""The keys a turn reads, fetched together with the resident's lock in one round trip.

A turn used to read its flow state and its risk memory with one GET each, after the lock's own
round trip. The turn holds the resident's lock, and only a turn writes these keys (a staff decision
may clear a flow state at any time, before or during a turn alike), so what was read with the lock
stays true for the whole turn as long as the turn's own writes go through here too. The values live
for one turn: `for_turn` ends them, and a task started inside the turn that outlives it reads Redis.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

MISSING = object()


class _TurnValues:
    def __init__(self, values: dict[str, str | None]) -> None:
        self.values = values
        self.open = True


_current: ContextVar[_TurnValues | None] = ContextVar("turn_read_ahead", default=None)


class ReadAhead:
    """Which keys a turn reads for sure; packages add theirs at start (key from openid)."""

    def __init__(self) -> None:
        self._keys: list[Callable[[str], str]] = []

    def add(self, key_for: Callable[[str], str]) -> None:
        self._keys.append(key_for)

    def keys(self, openid: str) -> list[str]:
        return [key_for(openid) for key_for in self._keys]


@contextmanager
def for_turn(values: dict[str, str | None]) -> Iterator[None]:
    """The turn's read-ahead values, for the code that runs in this turn's task."""
    held = _TurnValues(values)
    token = _current.set(held)
    try:
        yield
    finally:
        held.open = False
        _current.reset(token)


def read(key: str) -> object:
    """The value read ahead (None when the key was empty), or `MISSING` outside a turn or for another key."""
    held = _current.get()
    if held is None or not held.open:
        return MISSING
    return held.values.get(key, MISSING)


def wrote(key: str, value: str | None) -> None:
    """The turn wrote `key` (None: deleted): later reads in this turn see it."""
    held = _current.get()
    if held is not None and held.open and key in held.values:
        held.values[key] = value

