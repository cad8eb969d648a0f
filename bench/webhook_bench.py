"""Webhook benchmark: signed messages from 10,000 residents against a server in another process.

    python bench/webhook_bench.py                      # embedded defaults (SQLite, fakeredis)
    python bench/webhook_bench.py --real               # PostgreSQL + Redis on this machine
    python bench/webhook_bench.py --real --workers 2   # two worker processes
    python bench/webhook_bench.py --bare               # the ceiling: parse and answer only
    python bench/webhook_bench.py --side-by-side       # xinzhan (PostgreSQL+Redis, 2 workers), WeRoBot, ceiling
    python bench/webhook_bench.py --side-by-side --plain   # plain text only instead of the realistic mix

Prints messages/s and p50/p99 latency. The load generator shares the machine's cores with the
server; say so beside the numbers. `--side-by-side` runs the three servers one after the other in one
run: xinzhan on PostgreSQL + Redis with 2 workers, WeRoBot 1.13 under gunicorn with 2 sync workers
and its sessions off (it stores nothing and runs no flow; `pip install -e ".[bench]"`), and the bare
aiohttp ceiling with 2 workers; then each one's ratio to WeRoBot.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.wechat.security import sign  # noqa: E402

TOKEN = "bench-token"
REAL_DB_NAME = os.environ.get("XZ_BENCH_DB_NAME", "xinzhan_bench")  # several sessions share the machine
REAL_REDIS_DB = int(os.environ.get("XZ_BENCH_REDIS_DB", "7"))
REAL_DB = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{REAL_DB_NAME}"
REAL_REDIS = f"redis://127.0.0.1:6379/{REAL_REDIS_DB}"
# A realistic mix: menu taps and words, assessment answers, tip searches, free text, a little crisis.
MIX = [("click", "MENU_ASSESS"), ("click", "MENU_TIPS"), ("text", "菜单"), ("text", "1"), ("text", "2"),
       ("text", "0"), ("text", "睡不着怎么办"), ("text", "最近压力很大，考试焦虑"), ("text", "附近站点"),
       ("text", "你好"), ("text", "谢谢"), ("click", "MENU_EVENTS"), ("text", "我不想活了")]
# Plain text: everyday words that start no flow and carry no risk (the crisis detector still reads them).
PLAIN = [("text", "今天有点累"), ("text", "谢谢你"), ("text", "下班了"), ("text", "天气不错")]
_ids = itertools.count(int(time.time() * 1000))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def message(openid: str, mix: list[tuple[str, str]] = MIX) -> str:
    kind, value = random.choice(mix)
    now = int(time.time())
    head = f"<xml><ToUserName>gh_bench</ToUserName><FromUserName>{openid}</FromUserName><CreateTime>{now}</CreateTime>"
    if kind == "click":
        return head + f"<MsgType>event</MsgType><Event>CLICK</Event><EventKey>{value}</EventKey></xml>"
    return head + f"<MsgType>text</MsgType><Content><![CDATA[{value}]]></Content><MsgId>{next(_ids)}</MsgId></xml>"


async def one(session: aiohttp.ClientSession, url: str, openid: str, latencies: list[float], errors: list[int],
              mix: list[tuple[str, str]] = MIX):
    ts, nonce = str(int(time.time())), os.urandom(5).hex()
    params = {"timestamp": ts, "nonce": nonce, "signature": sign(TOKEN, ts, nonce)}
    started = time.perf_counter()
    async with session.post(url, params=params, data=message(openid, mix).encode()) as resp:
        await resp.read()
        if resp.status != 200:
            errors.append(resp.status)
    latencies.append(time.perf_counter() - started)


async def drive(url: str, total: int, concurrency: int, residents: int,
                mix: list[tuple[str, str]] = MIX) -> tuple[float, float, float, int]:
    """Returns messages/s, p50 and p99 (ms) and the count of non-200 answers."""
    openids = [f"bench-{i:05d}" for i in range(residents)]
    latencies: list[float] = []
    errors: list[int] = []
    queue = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(openids[i % residents] if i < residents else random.choice(openids))

    async def worker(session):
        while not queue.empty():
            await one(session, url, queue.get_nowait(), latencies, errors, mix)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(min(200, total)):  # warm-up: connections, caches, JIT-free but pools filled
            await one(session, url, random.choice(openids), [], [], mix)
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    rate, p50, p99 = len(latencies) / elapsed, q[49] * 1000, q[98] * 1000
    print(f"requests {len(latencies)}  concurrency {concurrency}  residents {residents}  errors {len(errors)}")
    print(f"throughput {rate:.0f} msg/s  p50 {p50:.1f} ms  p99 {p99:.1f} ms")
    return rate, p50, p99, len(errors)


def server_env(port: int, mock_port: int, workers: int) -> dict[str, str]:
    return dict(os.environ, XZ_WECHAT_TOKEN=TOKEN, XZ_WECHAT_APPID="wxbench", XZ_WECHAT_SECRET="bench-secret",
                XZ_HOST="127.0.0.1", XZ_PORT=str(port), XZ_WORKERS=str(workers), XZ_LOG_LEVEL="WARNING",
                XZ_WECHAT_API_BASE=f"http://127.0.0.1:{mock_port}")


def empty_real_stores(database: str, redis_db: int) -> None:
    """A new PostgreSQL database and an emptied Redis db, so each run starts from nothing."""
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q",
                    "-c", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)", "-c", f"CREATE DATABASE {database}"],
                   check=True)
    subprocess.run(["redis-cli", "-n", str(redis_db), "flushdb"], check=True, capture_output=True)


def migrate_and_serve(env: dict[str, str], **popen) -> subprocess.Popen:
    subprocess.run([sys.executable, "-m", "bot.cli", "migrate"], env=env, check=True, cwd=ROOT, capture_output=True)
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env, cwd=ROOT, **popen)


def start_server(args, port: int) -> list[subprocess.Popen]:
    env = server_env(port, args.mock_port, args.workers)
    if args.werobot:
        cmd = [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--worker-class", "sync",
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--chdir", str(ROOT / "bench"),
               "werobot_app:app"]
        return [subprocess.Popen(cmd, env=env)]
    if args.bare:
        cmd = [sys.executable, str(ROOT / "bench" / "bare_server.py"), str(port)]
        return [subprocess.Popen(cmd, env=env) for _ in range(args.workers)]
    if args.real:
        env.update(XZ_DATABASE_URL=REAL_DB, XZ_REDIS_URL=REAL_REDIS)
        empty_real_stores(REAL_DB_NAME, REAL_REDIS_DB)
    else:
        env["XZ_DATABASE_URL"] = f"sqlite+aiosqlite:///{ROOT}/var/bench.db"
        (ROOT / "var" / "bench.db").unlink(missing_ok=True)
    return [migrate_and_serve(env)]


def wait_port(port: int, timeout: float = 120) -> None:  # a loaded machine starts workers slowly
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"server did not start on port {port}")


def run_one(args, label: str) -> tuple[float, float, float, int]:
    """Start one server (and the mock platform API), drive it, stop it."""
    port, args.mock_port = free_port(), free_port()
    procs = [subprocess.Popen([sys.executable, "-m", "bot.cli", "mock-wechat", "--port", str(args.mock_port),
                               "--appid", "wxbench", "--secret", "bench-secret"], cwd=ROOT, stdout=subprocess.DEVNULL)]
    try:
        procs += start_server(args, port)
        wait_port(port)
        wait_port(args.mock_port)
        print(f"{label}, {args.workers} worker(s), {os.cpu_count()} cores shared with the load generator, "
              f"{'plain text' if args.plain else 'realistic mix'}, load average before {os.getloadavg()[0]:.1f}")
        return asyncio.run(drive(f"http://127.0.0.1:{port}/wechat", args.requests, args.concurrency, args.residents,
                                 PLAIN if args.plain else MIX))
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)


def side_by_side(args) -> None:
    """xinzhan, WeRoBot and the ceiling, one after the other, each with 2 workers; ratios to WeRoBot."""
    args.workers = 2
    rows = []
    for label, real, werobot, bare in (("xinzhan PostgreSQL+Redis", True, False, False),
                                       ("WeRoBot 1.13, gunicorn sync, sessions off", False, True, False),
                                       ("bare aiohttp ceiling", False, False, True)):
        args.real, args.werobot, args.bare = real, werobot, bare
        rows.append((label, *run_one(args, label)))
    werobot_rate = rows[1][1]
    print(f"\n| server (2 workers, {'plain text' if args.plain else 'realistic mix'}, "
          f"{args.concurrency} connections) | msg/s | p50 ms | p99 ms | errors | x WeRoBot |")
    print("|---|---|---|---|---|---|")
    for label, rate, p50, p99, errors in rows:
        print(f"| {label} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {errors} | {rate / werobot_rate:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--residents", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--real", action="store_true", help="PostgreSQL and Redis on this machine")
    parser.add_argument("--bare", action="store_true", help="the parse-and-answer ceiling")
    parser.add_argument("--werobot", action="store_true", help="WeRoBot under gunicorn, sessions off")
    parser.add_argument("--side-by-side", action="store_true", help="xinzhan, WeRoBot and the ceiling in one run")
    parser.add_argument("--plain", action="store_true", help="plain text messages instead of the realistic mix")
    args = parser.parse_args()
    if args.side_by_side:
        side_by_side(args)
        return
    label = ("bare aiohttp" if args.bare else "WeRoBot" if args.werobot
             else "PostgreSQL+Redis" if args.real else "embedded SQLite+fakeredis")
    run_one(args, f"xinzhan webhook benchmark: {label}")


if __name__ == "__main__":
    main()
