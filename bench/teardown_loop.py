"""Start and stop the full app many times and count the teardowns that hang.

Each cycle builds `create_app(config)` with every plugin, starts it on a TestServer next to the mock
WeChat API, waits a random moment (so shutdown lands at different points of the background loops),
then closes it. A close that runs past --limit seconds is a hang: every task's stack is printed to
stderr, the close is cancelled, and the count goes up. Prints cycles, hangs and close times.

    python bench/teardown_loop.py --cycles 500            # SQLite + fakeredis
    python bench/teardown_loop.py --cycles 500 --real     # PostgreSQL + Redis (see --database/--redis)
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp.test_utils import TestServer  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.mock_wechat.app import create_mock_app  # noqa: E402
from tests.task_stacks import task_stacks  # noqa: E402

APPID, SECRET = "wxbench00000000001", "bench-secret"


async def recreate_pg(admin_url: str, name: str) -> str:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        await conn.execute(text(f"CREATE DATABASE {name}"))
    await engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


async def cycle(env: dict, limit: float, max_pause: float) -> tuple[float, bool]:
    server = TestServer(create_app(load_config(env)))
    await server.start_server()
    await asyncio.sleep(random.uniform(0, max_pause))
    started = time.perf_counter()
    closing = asyncio.ensure_future(server.close())
    done, _ = await asyncio.wait({closing}, timeout=limit)
    if done:
        closing.result()
        return time.perf_counter() - started, False
    print(f"--- close hung for {limit:.0f}s; task stacks:\n{task_stacks()}", file=sys.stderr, flush=True)
    closing.cancel()
    await asyncio.wait({closing}, timeout=limit)  # bounded: that cancel may be lost as well
    return time.perf_counter() - started, True


async def main(args: argparse.Namespace) -> None:
    if args.real:
        database_url = await recreate_pg(args.postgres, args.database)
        redis_url = args.redis
    else:
        database_url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/teardown.db"
        redis_url = ""
    await asyncio.to_thread(upgrade, database_url)
    mock = TestServer(create_mock_app(APPID, SECRET))
    await mock.start_server()
    env = {"XZ_WECHAT_TOKEN": "bench-token", "XZ_WECHAT_APPID": APPID, "XZ_WECHAT_SECRET": SECRET,
           "XZ_WECHAT_API_BASE": str(mock.make_url("")).rstrip("/"), "XZ_DATABASE_URL": database_url,
           "XZ_REDIS_URL": redis_url}
    times, hangs = [], 0
    for n in range(1, args.cycles + 1):
        seconds, hung = await cycle(env, args.limit, args.max_pause)
        hangs += hung
        if not hung:
            times.append(seconds)
        if n % 50 == 0 or hung:
            print(f"cycle {n}: hangs so far {hangs}", flush=True)
    await mock.close()
    times.sort()
    print(f"backend={'real' if args.real else 'embedded'} cycles={args.cycles} hangs={hangs} "
          f"close p50={statistics.median(times) * 1000:.0f} ms max={times[-1] * 1000:.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=500)
    parser.add_argument("--limit", type=float, default=5.0, help="seconds a close may take before it counts as hung")
    parser.add_argument("--max-pause", type=float, default=0.5, help="longest random wait between start and close")
    parser.add_argument("--real", action="store_true", help="PostgreSQL and Redis instead of SQLite and fakeredis")
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="xinzhan_test_e")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    asyncio.run(main(parser.parse_args()))
