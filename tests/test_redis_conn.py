"""A task cancelled in the middle of Redis commands stops, on fakeredis and on a real server.

On Python 3.11, `asyncio.wait_for` loses a cancel that lands as the awaited write completes;
redis-py wraps every write in it when a socket_timeout is set. A lost cancel is a background loop
that never stops and an app shutdown that hangs (bot/redis_conn.py).
"""
from __future__ import annotations

import asyncio

from bot.redis_conn import connect_redis
from tests.conftest import REAL_REDIS

ATTEMPTS = 60


async def commands_forever(redis) -> None:
    while True:
        await redis.set("xz:test:cancel", "1")
        await asyncio.sleep(0)  # fakeredis answers without suspending: let the test run between commands


async def test_one_cancel_stops_a_task_whatever_command_step_it_is_in():
    redis = connect_redis(REAL_REDIS)
    survivors = 0
    try:
        for attempt in range(ATTEMPTS):
            task = asyncio.create_task(commands_forever(redis))
            for _ in range(attempt % 12 + 1):  # land the cancel at a different step each time
                await asyncio.sleep(0)
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=2)
            if not done:
                survivors += 1
                while not task.done():  # stop it anyway, so the test itself cannot hang
                    task.cancel()
                    await asyncio.wait({task}, timeout=0.1)
    finally:
        await redis.delete("xz:test:cancel")
        await redis.aclose()
    assert survivors == 0, f"{survivors} of {ATTEMPTS} tasks kept running after their cancel"


async def test_more_commands_in_flight_than_redis_py_default_pool_is_not_an_outage():
    """Past 100 connections in use redis-py raises a ConnectionError, which the webhook reads as
    Redis down; a worker with hundreds of turns in flight must still reach Redis."""
    redis = connect_redis(REAL_REDIS)
    try:
        results = await asyncio.gather(*(redis.blpop([f"xz:test:pool:{i}"], timeout=0.2) for i in range(150)))
        assert results == [None] * 150
    finally:
        await redis.aclose()
