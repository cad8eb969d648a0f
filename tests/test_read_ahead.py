"""What a turn reads with the resident's lock is what is there once it holds the lock; its writes reach
Redis with the release and are what the next turn reads (bot/stores/read_ahead.py)."""
from __future__ import annotations

import asyncio
import json

from bot.stores import read_ahead
from bot.stores.state import FlowState, StateStore


async def test_a_turn_that_waits_for_the_lock_reads_what_the_holder_wrote(services):
    key = StateStore.key("o-wait")
    held = services.redis.lock("xz:lock:resident:o-wait", timeout=10)
    assert await held.acquire()

    async def turn() -> object:
        async with services.locks.hold("o-wait", read=lambda pipe: services.read_ahead.queue(pipe, "o-wait")) as values:
            return values[key]

    waiting = asyncio.create_task(turn())
    await services.states.set("o-wait", FlowState("tips", "browsing"))  # outside a turn: written at once
    await held.release()
    seen = await asyncio.wait_for(waiting, 10)
    assert json.loads(seen)["flow"] == "tips"


async def test_a_turns_writes_are_seen_in_the_turn_and_reach_redis_with_the_release(services):
    key = StateStore.key("o-later")
    turn = read_ahead.TurnValues()
    async with services.locks.hold("o-later", read=lambda pipe: services.read_ahead.queue(pipe, "o-later"),
                                   closing=turn.flush) as values:
        with read_ahead.for_turn(turn, values):
            await services.states.set("o-later", FlowState("assessment", "q1"))
            assert (await services.states.get("o-later")).state == "q1"
            assert await services.redis.get(key) is None  # not sent yet
            await services.states.clear("o-later")
            assert await services.states.get("o-later") is None
            await services.states.set("o-later", FlowState("assessment", "q2"))
    assert json.loads(await services.redis.get(key))["state"] == "q2"
    assert await services.redis.get("xz:lock:resident:o-later") is None


async def test_a_task_started_in_a_turn_reads_and_writes_redis_itself(services):
    key = StateStore.key("o-task")
    turn = read_ahead.TurnValues()
    async with services.locks.hold("o-task", read=lambda pipe: services.read_ahead.queue(pipe, "o-task"),
                                   closing=turn.flush) as values:
        with read_ahead.for_turn(turn, values):
            await asyncio.create_task(services.states.set("o-task", FlowState("tips", "browsing")))
            assert json.loads(await services.redis.get(key))["flow"] == "tips"  # written at once, not deferred
