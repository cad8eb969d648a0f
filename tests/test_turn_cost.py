"""The round trips of one plain turn (issue 16): a text that starts no flow and carries no risk, from a
resident we know, costs at most the budget in Redis and in SQL. bench/turn_cost.py measures the same
with CPU time; this fails when a change adds a round trip to every message."""
from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from redis.asyncio.client import Pipeline, Redis
from sqlalchemy import event

# Redis: the claim with the lock, the turn's reads and the 48-hour window; the turn's writes and the
# lock's release with the answer kept for retries and the in-flight entry settled (bench/README.md).
REDIS_BUDGET = 2
# SQL on PostgreSQL: the message in one statement (the resident updated and read back with their open case,
# the conversation touched, the message inserted: bot/inbound_statement.py), then the reply in one INSERT
# with the intent reading's INSERT in a CTE. SQLite has no data-modifying CTE (and no network round trip):
# the resident (with their open case) read back, the conversation touched, the message, the reading, the reply.
SQL_BUDGET = {"postgresql": 2, "sqlite": 5}
BACKGROUND = ("spool-drain",)  # loops that poll on their own clock, not part of a turn
PLAIN = ["今天有点累", "下班了", "天气不错", "谢谢你"]


def _in_a_turn() -> bool:
    task = asyncio.current_task()
    return task is None or not task.get_name().startswith(BACKGROUND)


@pytest.fixture
def round_trips(services, monkeypatch) -> Counter:
    """Redis commands and pipelines this process sends from turns (a pipeline or a script is one),
    and SQL statements with their transactions' BEGIN/COMMIT/ROLLBACK."""
    counts = Counter()
    command, pipeline = Redis.execute_command, Pipeline.execute

    async def counted_command(self, *args, **options):
        if _in_a_turn():
            counts["redis"] += 1
        return await command(self, *args, **options)

    async def counted_pipeline(self, *args, **options):
        if _in_a_turn() and self.command_stack:
            counts["redis"] += 1
        return await pipeline(self, *args, **options)

    monkeypatch.setattr(Redis, "execute_command", counted_command)
    monkeypatch.setattr(Pipeline, "execute", counted_pipeline)
    engine = services.transcript._engine.sync_engine

    def statement(conn, cursor, sql, *args) -> None:
        counts["sql"] += 1

    def transaction(conn) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            counts["sql"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    for name in ("begin", "commit", "rollback"):
        event.listen(engine, name, transaction)
    yield counts
    event.remove(engine, "before_cursor_execute", statement)
    for name in ("begin", "commit", "rollback"):
        event.remove(engine, name, transaction)


async def test_a_plain_turn_stays_within_its_round_trip_budget(platform, services, round_trips):
    await platform.text("o-plain-turn", "你好")  # first contact is its own, costlier case
    await services.tasks.join()
    round_trips.clear()
    for i, text in enumerate(PLAIN):
        answer = await platform.text("o-plain-turn", text)
        assert answer.status == 200 and answer.text, f"message {i} was not answered"
        await services.tasks.join()
    redis, sql = round_trips["redis"] / len(PLAIN), round_trips["sql"] / len(PLAIN)
    print(f"plain turn: {redis:.1f} Redis, {sql:.1f} SQL round trips")
    assert redis <= REDIS_BUDGET, f"{redis:.1f} Redis round trips per plain turn, budget {REDIS_BUDGET}"
    budget = SQL_BUDGET[services.transcript._engine.dialect.name]
    assert sql <= budget, f"{sql:.1f} SQL round trips per plain turn, budget {budget}"
