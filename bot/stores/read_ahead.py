"""The keys a turn reads, fetched with the resident's lock, and its deferred writes, sent with the release.

A turn used to read its flow state, its risk memory and the resident's recent messages one round trip
each, after the lock's own. The turn holds the resident's lock, and only a turn writes these keys (a
staff decision may clear a flow state at any time, before or during a turn alike), so what was read
with the lock stays true for the whole turn as long as the turn's own writes go through here too.
The turn's writes to these keys wait and go with the lock's release (later reads in the turn see them):
a worker that dies mid-turn loses them together with the turn, which a drainer then runs whole.
The values live for one turn and its own task: a task the turn starts reads and writes Redis itself.
"""
from __future__ import annotations

import asyncio
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

from redis.asyncio.client import Pipeline

MISSING = object()
Queue = Callable[[Pipeline], object]


def _get(pipe: Pipeline, key: str) -> None:
    pipe.get(key)


class ReadAhead:
    """Which keys a turn reads for sure; packages add theirs at start (key from openid, and how to read it)."""

    def __init__(self) -> None:
        self._reads: list[tuple[Callable[[str], str], Callable[[Pipeline, str], object]]] = []

    def add(self, key_for: Callable[[str], str], read: Callable[[Pipeline, str], object] = _get) -> None:
        self._reads.append((key_for, read))

    def queue(self, pipe: Pipeline, openid: str) -> list[str]:
        """Queue the reads for `openid`'s turn on `pipe`; returns their keys, in the pipeline's order."""
        keys = []
        for key_for, read in self._reads:
            keys.append(key_for(openid))
            read(pipe, keys[-1])
        return keys


class TurnValues:
    """One turn's values read ahead, and the writes it leaves for the lock's release."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}
        self.deferred: list[Queue] = []
        self.open = False
        self.task: asyncio.Task | None = None  # the turn's own task: one it starts reads and writes Redis

    def flush(self, pipe: Pipeline) -> None:
        for queue in self.deferred:
            queue(pipe)
        self.deferred.clear()


_current: ContextVar[TurnValues | None] = ContextVar("turn_read_ahead", default=None)


@contextmanager
def for_turn(turn: TurnValues, values: dict[str, object]) -> Iterator[None]:
    """The turn's read-ahead values, for the code that runs in this turn's task."""
    turn.values, turn.open, turn.task = values, True, asyncio.current_task()
    token = _current.set(turn)
    try:
        yield
    finally:
        turn.open = False
        _current.reset(token)


def _open() -> TurnValues | None:
    turn = _current.get()
    return turn if turn is not None and turn.open and turn.task is asyncio.current_task() else None


def read(key: str) -> object:
    """The value read ahead (None when the key was empty), or `MISSING` outside a turn or for another key."""
    turn = _open()
    return MISSING if turn is None else turn.values.get(key, MISSING)


def wrote(key: str, value: object) -> None:
    """The turn wrote `key` (None: deleted): later reads in this turn see it."""
    turn = _open()
    if turn is not None and key in turn.values:
        turn.values[key] = value


def write_later(key: str, value: object, queue: Queue) -> bool:
    """For a key read ahead: later reads in this turn see `value` (None: deleted), and `queue`'s commands
    go with the lock's release. False for any other key or outside a turn (the caller writes now)."""
    turn = _open()
    if turn is None or key not in turn.values:
        return False
    turn.values[key] = value
    turn.deferred.append(queue)
    return True


def later(queue: Queue) -> bool:
    """Send `queue`'s commands with the lock's release; False outside a turn (the caller sends them now)."""
    turn = _open()
    if turn is None:
        return False
    turn.deferred.append(queue)
    return True
