"""What one turn costs, in-process: CPU ms, Redis commands and SQL statements per message.

    python bench/turn_cost.py                 # PostgreSQL + Redis on this machine
    python bench/turn_cost.py --profile 30    # and the 30 costliest functions by own time
    python bench/turn_cost.py --plain         # plain text only (no flow, no risk) instead of the mix

Messages go one at a time through the real `/wechat` handler (signed, parsed, de-duplicated), with
the turn's background work (passive-reply transcript, customer-service sends) awaited before the next
message, so the counts are the whole turn's. Uses database `xinzhan_turncost` and Redis db 8.
Counting is exact and does not depend on how busy the machine is; CPU ms does, a little.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio.connection import Connection
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhook_bench import MIX, PLAIN  # noqa: E402
from bot.app import create_app  # noqa: E402
from bot.appkeys import SERVICES  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.mock_wechat.app import create_mock_app  # noqa: E402
from tests.platform import Platform, message_xml  # noqa: E402

DB_NAME = os.environ.get("XZ_BENCH_DB_NAME", "xinzhan_turncost")  # several sessions share the machine
REDIS_DB = os.environ.get("XZ_BENCH_REDIS_DB", "8")
DB = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS = f"redis://127.0.0.1:6379/{REDIS_DB}"


def fresh_database() -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q",
                    "-c", f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)',
                    "-c", f'CREATE DATABASE "{DB_NAME}"'], check=True)
    subprocess.run(["redis-cli", "-n", REDIS_DB, "flushdb"], check=True, capture_output=True)
    upgrade(DB)


def xml_for(openid: str, mix: list[tuple[str, str]] = MIX) -> str:
    kind, value = random.choice(mix)
    if kind == "click":
        return message_xml(openid, "event", {"Event": "CLICK", "EventKey": value})
    return message_xml(openid, "text", {"Content": value})


def count_redis_round_trips(counts: Counter) -> None:
    """Count what this process sends to Redis (a pipeline or a script is one round trip)."""
    send = Connection.send_packed_command

    async def counted(self, command, check_health=True):
        counts["redis"] += 1
        first = command[0] if isinstance(command, list) else command
        words = bytes(first).split(b"\r\n")
        name = words[2].decode(errors='replace').upper() if len(words) > 2 else '?'
        counts[f'redis:{name}'] += 1
        return await send(self, command, check_health)

    Connection.send_packed_command = counted


def count_sql_round_trips(engine, counts: Counter) -> None:
    """Statements by verb, plus the transactions' BEGIN and COMMIT/ROLLBACK, each a round trip
    (not on autocommit connections, where SQLAlchemy's begin and end send nothing)."""
    def transaction_end(conn, name: str) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            counts.update(["sql " + name])

    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, sql, *a: counts.update(["sql " + sql.split(None, 1)[0].upper()]))
    for name in ("begin", "commit", "rollback"):
        event.listen(engine, name, lambda conn, name=name: transaction_end(conn, name.upper()))
    if engine.pool._pre_ping:  # a checkout then pings the server first
        event.listen(engine.pool, "checkout", lambda *a: counts.update(["sql PING"]))


async def measure(messages: int, residents: int, profile: int, mix: list[tuple[str, str]]) -> None:
    mock = TestServer(create_mock_app("wxturncost", "secret"))
    await mock.start_server()
    config = load_config({"XZ_WECHAT_TOKEN": "t", "XZ_WECHAT_APPID": "wxturncost", "XZ_WECHAT_SECRET": "secret",
                          "XZ_WECHAT_API_BASE": str(mock.make_url("")).rstrip("/"), "XZ_DATABASE_URL": DB,
                          "XZ_REDIS_URL": REDIS, "XZ_LOG_LEVEL": "WARNING"})
    client = TestClient(TestServer(create_app(config)))
    await client.start_server()
    services = client.server.app[SERVICES]
    counts = Counter()
    count_redis_round_trips(counts)
    count_sql_round_trips(services.db.kw["bind"].sync_engine, counts)
    platform = Platform(client, config)
    openids = [f"cost-{i:04d}" for i in range(residents)]

    async def one(openid: str) -> None:
        answer = await platform.post_raw(*platform.envelope(xml_for(openid, mix)))
        assert answer.status == 200, answer.status
        await services.tasks.join()

    for openid in openids:  # every resident exists before counting: first contact is its own case
        await one(openid)
    counts.clear()
    profiler = cProfile.Profile(time.process_time) if profile else None  # CPU, not wall: the machine is shared
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for _ in range(messages):
        await one(random.choice(openids))
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await client.close()
    await mock.close()
    redis = counts.pop("redis", 0)
    by_command = {k[6:]: counts.pop(k) for k in list(counts) if k.startswith("redis:")}
    sql = sum(counts.values())
    print(f"turn cost over {messages} {'plain text' if mix is PLAIN else 'realistic mix'} messages from "
          f"{residents} known residents (PostgreSQL + Redis, in-process), load average {os.getloadavg()[0]:.1f}")
    print(f"  cpu {cpu / messages * 1000:.2f} ms/turn  wall {wall / messages * 1000:.2f} ms/turn")
    print(f"  redis round trips {redis / messages:.1f}/turn (includes the background loops' polling): "
          + ", ".join(f"{k} {v / messages:.2f}" for k, v in sorted(by_command.items(), key=lambda kv: -kv[1])))
    print(f"  sql round trips {sql / messages:.1f}/turn: "
          + ", ".join(f"{k[4:]} {v / messages:.1f}" for k, v in counts.most_common()))
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(profile)
        stats.sort_stats("cumulative").print_stats(str(ROOT / "(bot|flows|handoff|scheduler|knowledge)"), profile)
        print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--residents", type=int, default=50)
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the N costliest functions")
    parser.add_argument("--plain", action="store_true", help="plain text messages instead of the realistic mix")
    args = parser.parse_args()
    random.seed(7)
    os.environ["XZ_SCHEDULER"] = "off"  # no campaign loop in the counts
    fresh_database()
    asyncio.run(measure(args.messages, args.residents, args.profile, PLAIN if args.plain else MIX))


if __name__ == "__main__":
    main()
