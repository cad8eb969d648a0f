"""The compose stack, run once for the deploy tests that need real servers: `migrate` on a database
of its own (so its migrations really run from nothing), then `app` and `scheduler` serving."""
from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import REAL_DB, REAL_REDIS, TEST_DB_NAME
from tests.deploy.stack import Stack
from tests.faults.conftest import wait_port

STACK_DB_NAME = f"{TEST_DB_NAME}_compose"


async def _postgres(*statements: str) -> None:
    engine = create_async_engine(REAL_DB, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        for statement in statements:
            await conn.execute(text(statement))
    await engine.dispose()


async def _empty_redis() -> None:
    redis = Redis.from_url(REAL_REDIS)
    await redis.flushdb()  # the tests' own db number, never another
    await redis.aclose()


async def _serving(*ports: int) -> None:
    await asyncio.gather(*(wait_port(port, timeout=60) for port in ports))


def _log_tails(stack: Stack) -> str:
    return "\n".join(f"--- {s.name}:\n{s.log.read_text(errors='replace')[-3000:]}" for s in stack.running)


@pytest.fixture(scope="package")
def compose_stack(tmp_path_factory):
    if not (REAL_DB and REAL_REDIS):
        pytest.skip("the compose stack needs real PostgreSQL and Redis: set XZ_TEST_DATABASE_URL and XZ_TEST_REDIS_URL")
    drop = f"DROP DATABASE IF EXISTS {STACK_DB_NAME} WITH (FORCE)"
    asyncio.run(_postgres(drop, f"CREATE DATABASE {STACK_DB_NAME}"))
    asyncio.run(_empty_redis())
    stack = Stack(make_url(REAL_DB).set(database=STACK_DB_NAME).render_as_string(hide_password=False),
                  REAL_REDIS, tmp_path_factory.mktemp("compose"))
    try:
        migrated = stack.run("migrate")
        if migrated.returncode != 0:
            pytest.fail(f"`migrate` exited {migrated.returncode}:\n{migrated.stdout}{migrated.stderr}", pytrace=False)
        try:
            asyncio.run(_serving(stack.start("app").port, stack.start("scheduler").port))
        except AssertionError as exc:
            pytest.fail(f"{exc}\n{_log_tails(stack)}", pytrace=False)
        yield stack
    finally:
        stack.stop_all()
        asyncio.run(_postgres(drop))
