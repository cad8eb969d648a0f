"""CPU the safety stage adds to an ordinary turn: the scan, the context read, the check lookup.

Not a test: a script that prints numbers, run as `.venv/bin/python bench/safety_stage_bench.py`.
Ordinary messages (level 0) touch no database. In a turn the stage's Redis keys (risk memory, recent
messages) are read with the resident's lock and its writes go with the lock's release
(bot/stores/read_ahead.py), so the stage itself sends nothing: that is the first figure. The second
adds those reads and writes sent in two pipelines of their own, an upper bound, since in a turn they
ride pipelines the turn sends anyway. With XZ_BENCH_REDIS_URL (e.g. redis://127.0.0.1:6379/13) they
go to a real server; without it to fakeredis in this process, whose own CPU is then counted too.
"""
from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import datetime, timezone
from types import SimpleNamespace

import fakeredis
import redis.asyncio as aioredis

from bot.pipeline import Turn
from bot.stores import read_ahead
from bot.stores.state import StateStore
from bot.transcript import ResidentRef
from bot.values import Inbound
from flows.safety.memory import RiskMemory
from flows.safety.recent import RecentMessages
from flows.safety.screener import screener
from flows.safety.stage import make_stage
from flows.safety.web import detector

MESSAGES = ["你好", "在吗", "好的谢谢", "明天几点开始？", "哈哈哈笑死我了", "我想预约心理咨询", "ok thanks", "今天好累啊",
            "周末的讲座在哪里报名", "孩子不爱写作业怎么办", "我最近睡不好", "what time do you open?",
            "今天上班又被领导骂了，中午的外卖也不好吃，下午开会开到六点，回家的路上堵车堵了一个小时。"]


async def main() -> None:
    url = os.environ.get("XZ_BENCH_REDIS_URL")
    redis = aioredis.from_url(url, decode_responses=True) if url else fakeredis.FakeAsyncRedis(decode_responses=True)
    print(f"redis: {url or 'fakeredis (in process)'}")
    services = SimpleNamespace(redis=redis, states=StateStore(redis))
    stage = make_stage(services, detector(), screener())
    ref = ResidentRef(1, "o-bench", 1, "zh-Hans", False, True)
    now = datetime.now(timezone.utc)
    # Each text made unique (a number appended), as residents' messages are: the detector caches
    # readings of messages it has just read, and a repeated text would measure the cache.
    turns = [Turn(Inbound("o-bench", "text", now, text=f"{text} {n}"), ref, "zh-Hans")
             for n, text in enumerate(MESSAGES * 200)]
    reads = read_ahead.ReadAhead()  # as flows/safety/web.py registers them for every turn
    reads.add(RiskMemory.key)
    reads.add(RecentMessages.key, RecentMessages.read_in)

    async def as_in_a_turn(turn: Turn) -> tuple[float, float]:
        """(stage CPU µs, CPU µs of its reads and writes in pipelines of their own)."""
        t0 = time.thread_time_ns()
        async with redis.pipeline(transaction=False) as pipe:
            keys = reads.queue(pipe, turn.inbound.openid)
            values = dict(zip(keys, await pipe.execute()))
        t1 = time.thread_time_ns()
        values_of_turn = read_ahead.TurnValues()
        with read_ahead.for_turn(values_of_turn, values):
            await stage(turn)
        t2 = time.thread_time_ns()
        async with redis.pipeline(transaction=True) as pipe:
            values_of_turn.flush(pipe)
            await pipe.execute()
        t3 = time.thread_time_ns()
        return (t2 - t1) / 1000, (t1 - t0 + t3 - t2) / 1000

    for turn in turns[:100]:
        await as_in_a_turn(turn)
    stage_us, with_redis_us, scan_us = [], [], []
    for turn in turns:
        alone, redis_part = await as_in_a_turn(turn)
        stage_us.append(alone)
        with_redis_us.append(alone + redis_part)
        t0 = time.thread_time_ns()
        detector().scan(turn.inbound.text + " ")
        scan_us.append((time.thread_time_ns() - t0) / 1000)
    for name, values in (("safety stage in a turn", stage_us), ("with its own pipelines", with_redis_us),
                         ("scan alone", scan_us)):
        values.sort()
        print(f"{name:>22}: mean {statistics.mean(values):6.1f} µs CPU  p99 {values[int(len(values) * 0.99)]:6.1f} µs"
              f"  ({len(values)} ordinary messages)")
    await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
