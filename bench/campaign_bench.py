"""Benchmark: one template campaign to N generated residents against the mock WeChat API.

    .venv/bin/python bench/campaign_bench.py --n 1000000 \
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/xinzhan_campaign_bench --redis-url redis://127.0.0.1:6379/15

Starts `xinzhan mock-wechat` as its own process with its rate limit at --rate (45009 beyond it), sets
our shared token bucket to the same rate, sends the run in a child process, SIGKILLs the child
half way, restarts it, and prints: achieved rate as a share of the limit, the sender's peak memory,
duplicates (messages the mock sent twice to one resident; must be 0), the claims the kill left in
flight (resent with the same client_msg_id: `deduplicated_by_mock` counts the copies the mock dropped
because the first had arrived), what is still `uncertain`, and the residents the mock never
reached (must be 0). The database is
dropped and recreated (PostgreSQL) or the SQLite file replaced. On a 2-core machine the mock, the
sender, PostgreSQL and Redis share the cores, so the rate is a floor, not a ceiling.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
APPID, SECRET = "wxbench000000000", "bench-secret"


def post(url: str, body: dict) -> None:
    urlopen(Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}), timeout=10)


async def prepare_database(url: str, n: int) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.migrate import upgrade

    if url.startswith("postgresql"):
        admin = create_async_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        name = url.rsplit("/", 1)[1]
        async with admin.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            await conn.execute(text(f"CREATE DATABASE {name}"))
        await admin.dispose()
    else:
        Path(url.split(":///", 1)[1]).unlink(missing_ok=True)
    await asyncio.to_thread(upgrade, url)
    started = time.perf_counter()
    if url.startswith("postgresql"):
        import asyncpg
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        await conn.execute(
            "INSERT INTO residents (openid, subscribed, language, area, name, scene, created_at, subscribed_at) "
            "SELECT 'bench-' || i, true, 'zh-Hans', '', '', '', now(), now() FROM generate_series(1, $1) i", n)
        await conn.execute("ANALYZE residents")
        await conn.close()
    else:
        import sqlite3
        db = sqlite3.connect(url.split(":///", 1)[1])
        db.executemany("INSERT INTO residents (openid, subscribed, language, area, name, scene, created_at, "
                       "subscribed_at) VALUES (?, 1, 'zh-Hans', '', '', '', datetime('now'), datetime('now'))",
                       ((f"bench-{i}",) for i in range(1, n + 1)))
        db.commit()
        db.close()
    print(f"inserted {n:,} residents in {time.perf_counter() - started:.1f} s", flush=True)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO campaigns (name, channel, content, schedule, active, system, created_at) VALUES "
            "('bench', 'template', '{\"template_id\": \"DAILY_TIP\", \"fields\": {\"thing1\": \"{{ name }}\"}}', "
            "'{\"kind\": \"manual\"}', true, '', CURRENT_TIMESTAMP)"))
        await conn.execute(text("INSERT INTO campaign_runs (campaign_id, occurrence, status, context, cursor, total, "
                                "sent, failed, skipped, delivered, pause_reason, created_at) VALUES "
                                "(1, 'bench', 'pending', '{}', 0, 0, 0, 0, 0, 0, '', CURRENT_TIMESTAMP)"))
    await engine.dispose()


async def child(args) -> None:
    """Send run 1 to the end in this process; print peak memory."""
    from datetime import time as clock

    from bot.app import create_app
    from bot.config import SchedulerSettings, load_config
    from scheduler import fanout
    from scheduler.outreach import OUTREACH
    from scheduler.web import SETTINGS

    config = load_config({"XZ_WECHAT_TOKEN": "t", "XZ_WECHAT_APPID": APPID, "XZ_WECHAT_SECRET": SECRET,
                          "XZ_WECHAT_API_BASE": args.mock, "XZ_DATABASE_URL": args.database_url,
                          "XZ_REDIS_URL": args.redis_url})
    app = create_app(config)
    app[SETTINGS] = SchedulerSettings(rate_per_second=args.rate, quiet_start=clock(0), quiet_end=clock(0),
                                      scheduler_enabled=False, concurrency=args.concurrency, batch_size=args.batch)
    from aiohttp.test_utils import TestServer
    server = TestServer(app)
    await server.start_server()
    started = time.perf_counter()
    try:
        while (status := await fanout.execute(app[OUTREACH], 1)) == "elsewhere":
            await asyncio.sleep(1)  # the killed sender's lease has not run out yet
            started = time.perf_counter()
        print(json.dumps({"status": status, "seconds": time.perf_counter() - started,
                          "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
    finally:
        await server.close()


async def run_counts(url: str) -> tuple[int, int, int, int]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT sent, failed, skipped, uncertain FROM campaign_runs WHERE id = 1"))).one()
    await engine.dispose()
    return tuple(row)


async def left_behind(url: str, redis_url: str) -> dict:
    """What the kill left: claims still queued, and how many of them the in-flight set names."""
    import redis
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from scheduler.inflight import SENTINEL, InFlight

    engine = create_async_engine(url)
    async with engine.connect() as conn:
        queued = set((await conn.execute(text("SELECT id FROM deliveries WHERE run_id = 1 AND status = 'queued'")))
                     .scalars())
    await engine.dispose()
    members = {int(m) for m in redis.Redis.from_url(redis_url).smembers(InFlight(None, 1).key) if m != SENTINEL.encode()}
    return {"queued": len(queued), "in_flight": len(queued & members)}


def spawn_child(args) -> subprocess.Popen:
    cmd = [sys.executable, __file__, "--child", "--n", str(args.n), "--rate", str(args.rate), "--mock", args.mock,
           "--database-url", args.database_url, "--redis-url", args.redis_url,
           "--concurrency", str(args.concurrency), "--batch", str(args.batch)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)


async def main(args) -> None:
    mock = subprocess.Popen([sys.executable, "-m", "bot.cli", "mock-wechat", "--port", str(args.mock_port),
                             "--appid", APPID, "--secret", SECRET], cwd=ROOT, stdout=subprocess.DEVNULL)
    args.mock = f"http://127.0.0.1:{args.mock_port}"
    try:
        await prepare_database(args.database_url, args.n)
        for _ in range(100):
            try:
                post(args.mock + "/mock/rate", {"per_second": args.rate})
                break
            except OSError:
                await asyncio.sleep(0.1)
        import redis
        redis.Redis.from_url(args.redis_url).flushdb()
        first = spawn_child(args)
        started = time.perf_counter()
        while True:
            await asyncio.sleep(0.5)
            sent, failed, skipped, _ = await run_counts(args.database_url)
            if sent + failed + skipped >= args.n * args.kill_at or first.poll() is not None:
                break
        # The counters move when a batch is recorded: a kill right then would find nothing in flight.
        achieved = max(1.0, sent / (time.perf_counter() - started))
        await asyncio.sleep(random.uniform(0.1, 0.9) * args.batch / achieved)
        first.send_signal(signal.SIGKILL)
        first.wait()
        phase1 = time.perf_counter() - started
        sent1 = sent
        left = await left_behind(args.database_url, args.redis_url)
        print(f"killed the sender at {sent1:,} sent after {phase1:.1f} s; left behind: {left}", flush=True)
        second = spawn_child(args)
        out, _ = second.communicate()
        phase2 = json.loads(out.strip().splitlines()[-1])["seconds"]
        report = json.loads(out.strip().splitlines()[-1])
        sent, failed, skipped, uncertain = await run_counts(args.database_url)
        mock_sent = json.load(urlopen(args.mock + "/mock/sent", timeout=600))
        received = Counter(m["touser"] for m in mock_sent["messages"])
        dupes = sum(c - 1 for c in received.values() if c > 1)
        rate = (sent - sent1) / phase2
        print(json.dumps({
            "residents": args.n, "limit_per_s": args.rate, "status": report["status"],
            "sent": sent, "failed": failed, "in_flight_at_kill": left["in_flight"], "still_uncertain": uncertain,
            "deduplicated_by_mock": mock_sent["deduplicated"], "received_by_mock": len(received),
            "missed_after_kill": args.n - len(received),
            "rate_phase1_per_s": round(sent1 / phase1, 1), "rate_phase2_per_s": round(rate, 1),
            "share_of_limit": round(rate / args.rate, 3), "peak_rss_mb_sender": round(report["maxrss_mb"], 1),
            "peak_rss_mb_children": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
            "duplicates": dupes}, indent=2))
    finally:
        mock.terminate()
        mock.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=2000)
    parser.add_argument("--kill-at", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--mock-port", type=int, default=18090)
    parser.add_argument("--database-url", default=os.environ.get(
        "XZ_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/xinzhan_campaign_bench"))
    parser.add_argument("--redis-url", default=os.environ.get("XZ_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--mock", default="")
    parser.add_argument("--child", action="store_true")
    parsed = parser.parse_args()
    asyncio.run(child(parsed) if parsed.child else main(parsed))
